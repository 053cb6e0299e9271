//! Notebook 02 writes Adam out with tensor ops and checks it against the crate's `Adam`, bit for
//! bit. This is that hand-written Adam, so a change to the crate's update that would break the
//! notebook's claim fails here first.

use mnist_mlp::candle_core::{Var, backprop::GradStore};
use mnist_mlp::candle_nn;
use mnist_mlp::prelude::*;

/// Notebook 02's `AdamByHand`: the coefficients in f32 as the crate and Keras compute them, and
/// each running mean moved a share of the way toward its new value.
struct AdamByHand {
    t: i32,
    state: Vec<(Var, Tensor, Tensor)>,
}

impl AdamByHand {
    fn step(&mut self, grads: &GradStore) -> Result<()> {
        let (lr, beta1, beta2, epsilon) = (1e-3, 0.9f64, 0.999f64, 1e-7);
        self.t += 1;
        let alpha = lr * (1.0 - beta2.powi(self.t)).sqrt() / (1.0 - beta1.powi(self.t));
        let c1 = f64::from(1.0 - beta1 as f32);
        let c2 = f64::from(1.0 - beta2 as f32);
        for (w, m, v) in &mut self.state {
            let Some(g) = grads.get(w) else { continue };
            *m = (&*m + ((g - &*m)? * c1)?)?;
            *v = (&*v + ((g.sqr()? - &*v)? * c2)?)?;
            let update = ((&*m * alpha)? / (v.sqrt()? + epsilon)?)?;
            w.set(&(w.as_tensor() - update)?)?;
        }
        Ok(())
    }
}

fn run(data: &Mnist, steps: usize, by_hand: bool) -> Result<Mlp> {
    let model = MlpConfig::default().init(&Device::Cpu)?;
    let vars = model.vars().all_vars();
    let state = vars.iter().map(|w| Ok((w.clone(), w.zeros_like()?, w.zeros_like()?))).collect::<Result<_>>()?;
    let mut hand = AdamByHand { t: 0, state };
    let mut adam = Adam::new(vars, AdamConfig::default())?;
    for step in 0..steps {
        let images = data.train_images.narrow(0, 32 * step, 32)?;
        let labels = data.train_labels.narrow(0, 32 * step, 32)?;
        let grads = candle_nn::loss::cross_entropy(&images.apply(&model)?, &labels)?.backward()?;
        if by_hand { hand.step(&grads)? } else { adam.step(&grads)? }
    }
    Ok(model)
}

#[test]
fn adam_written_with_tensor_ops_matches_the_crates_adam_bit_for_bit() {
    let data = Mnist::load().unwrap().subset(3_200, 100).unwrap();
    let (hand, fused) = (run(&data, 100, true).unwrap(), run(&data, 100, false).unwrap());
    for ((name, a), (_, b)) in hand.parameters().into_iter().zip(fused.parameters()) {
        let (a, b) =
            (a.flatten_all().unwrap().to_vec1::<f32>().unwrap(), b.flatten_all().unwrap().to_vec1::<f32>().unwrap());
        assert!(a == b, "{name} differs");
    }
}
