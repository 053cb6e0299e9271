//! The drawing pad: the f16 weights it carries predict exactly like the f32 model, and its HTML is
//! self-contained, small, and readable by tests. (Its script is checked in a real browser by
//! `scripts/checks/browser/pad-parity`.)

use mnist_mlp::candle_core::D;
use mnist_mlp::model::DrawingPad;
use mnist_mlp::prelude::*;

/// The pad's weights, decoded as the page decodes them, run on `images` with candle's ops.
fn f16_logits(pad: &DrawingPad, images: &Tensor) -> Tensor {
    let layers = pad.decoded_weights().unwrap();
    let last = layers.len() - 1;
    let mut x = images.clone();
    for (i, ((weight, bias), &[outputs, inputs])) in layers.into_iter().zip(&pad.layers).enumerate() {
        let weight = Tensor::from_vec(weight, (outputs, inputs), &Device::Cpu).unwrap();
        let bias = Tensor::from_vec(bias, outputs, &Device::Cpu).unwrap();
        x = x.matmul(&weight.t().unwrap()).unwrap().broadcast_add(&bias).unwrap();
        if i < last {
            x = x.relu().unwrap();
        }
    }
    x
}

#[test]
fn f16_weights_predict_every_test_image_like_the_f32_model() {
    let data = Mnist::load().unwrap();
    let mut model = MlpConfig::default().init(&Device::Cpu).unwrap();
    train(&mut model, &data, &TrainConfig::default(), |_| {}).unwrap();
    let pad = model.drawing_pad().unwrap();
    assert_eq!(pad.layers, [[128, 784], [64, 128], [10, 64]]);

    // The weights really are rounded: to 11 significant bits, not kept whole.
    let exact = model.layers()[0].weight.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let rounded = &pad.decoded_weights().unwrap()[0].0;
    let changed = exact.iter().zip(rounded).filter(|(a, b)| a != b).count();
    assert!(changed > exact.len() / 2, "only {changed} of {} weights changed", exact.len());
    let worst = exact.iter().zip(rounded).map(|(a, b)| (a - b).abs() / a.abs().max(6.1e-5)).fold(0.0, f32::max);
    assert!(worst <= 1.0 / 2048.0, "relative rounding error {worst}");

    let expected = model.predict(&data.test_images).unwrap().to_vec1::<u32>().unwrap();
    let logits = f16_logits(&pad, &data.test_images);
    let got = logits.argmax(D::Minus1).unwrap().to_vec1::<u32>().unwrap();
    let differ: Vec<usize> = (0..expected.len()).filter(|&i| expected[i] != got[i]).collect();
    assert_eq!(expected.len(), 10_000);
    assert!(differ.is_empty(), "f16 changes the prediction of test images {differ:?}");
}

#[test]
fn the_html_holds_model_script_and_test_hooks_and_nothing_from_the_web() {
    let html = MlpConfig::default().init(&Device::Cpu).unwrap().drawing_pad().unwrap().to_html();
    assert!(html.len() <= 400_000, "the pad adds {} bytes to a page", html.len());
    for hook in ["prediction", "probabilities", "canvas", "input", "clear", "download", "model"] {
        assert!(html.contains(&format!("data-role=\"{hook}\"")), "no data-role=\"{hook}\"");
    }
    assert!(!html.contains("http"), "the pad refers to the web");
    assert_eq!(html.matches("<script").count(), 2, "the weights' JSON and the script");
    assert_eq!(html.matches("</script").count(), 2, "nothing inside closes a script early");
    assert!(html.contains("function prepare(") && html.contains("document.currentScript"));
}

#[test]
fn the_weights_decode_to_their_shapes_and_bad_ones_are_refused() {
    let pad = MlpConfig::default().init(&Device::Cpu).unwrap().drawing_pad().unwrap();
    let sizes: Vec<_> = pad.decoded_weights().unwrap().iter().map(|(w, b)| (w.len(), b.len())).collect();
    assert_eq!(sizes, [(100_352, 128), (8_192, 64), (640, 10)]);

    let short = DrawingPad { weights_f16: pad.weights_f16[..400].to_string(), ..pad.clone() };
    let error = short.decoded_weights().unwrap_err().to_string();
    assert!(error.contains("300 bytes of weights for 109386 parameters"), "{error}");
    let garbled = DrawingPad { weights_f16: "not base64!".into(), ..pad };
    assert!(garbled.decoded_weights().unwrap_err().to_string().contains("not base64"));
}

#[test]
fn any_architecture_gets_a_pad_with_its_layers() {
    for (hidden, layers) in [(vec![], vec![[10, 784]]), (vec![32usize], vec![[32, 784], [10, 32]])] {
        let model = MlpConfig::new(hidden).init(&Device::Cpu).unwrap();
        let pad = model.drawing_pad().unwrap();
        assert_eq!(pad.layers, layers);
        let parameters: usize = pad.decoded_weights().unwrap().iter().map(|(w, b)| w.len() + b.len()).sum();
        assert_eq!(parameters, model.parameter_count());
    }
}
