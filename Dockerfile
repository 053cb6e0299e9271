# The notebooks as one image: JupyterLab with the project's Rust kernel (evcxr), Candle and the
# support crate compiled ahead, the notebooks put in the user's home at start. The same file serves
# Docker, Podman (`podman build` reads a Dockerfile as its Containerfile), Binder (repo2docker
# finds a root Dockerfile by this name only) and, as `singleuser.image`, Zero to JupyterHub.
#
#   docker build -t mnist-rust-notebooks .         or: podman build -t mnist-rust-notebooks .
#   docker run --rm -p 8888:8888 mnist-rust-notebooks
#
# scripts/image builds it and runs its smoke test (see docs/image.md).
#
# Why everything warm lives in /opt/mnist and not in the home: Zero to JupyterHub mounts a volume
# over /home/jovyan, which hides whatever the image put there. Toolchain, registry, evcxr's cache
# and the kernel's build folders therefore sit at fixed paths outside it, the same in the build
# stage and in the final one, because cargo's fingerprints and evcxr's cache keys hold paths.

# An official Rust image: Debian with rustc, cargo and gcc (rustc links with it). Python and
# JupyterLab come from Debian and PyPI. Build elsewhere with --build-arg BASE=...
ARG BASE=docker.io/library/rust:1.95-slim-bookworm

# ---------------------------------------------------------------------------------------------
# runtime: what both stages need at run time: Python, tini, the user.
FROM ${BASE} AS runtime
# Binder passes its user as these build arguments; 1000 is also JupyterHub's convention.
ARG NB_USER=jovyan
ARG NB_UID=1000
USER root
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3 tini \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid "${NB_UID}" --gid 100 --shell /bin/bash "${NB_USER}"
ENV USER=${NB_USER} \
    HOME=/home/${NB_USER} \
    LANG=C.UTF-8 \
    CARGO_HOME=/opt/mnist/cargo \
    XDG_CACHE_HOME=/opt/mnist/cache \
    MNIST_KERNEL_STATE=/opt/mnist/state \
    PIP_NO_CACHE_DIR=1 \
    PATH=/opt/mnist/project/.venv/bin:/opt/mnist/cargo/bin:${PATH}

# ---------------------------------------------------------------------------------------------
# build: compiles the kernel and warms its caches, as the user who will run them.
FROM runtime AS build
ARG NB_UID=1000
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-venv patch \
    && rm -rf /var/lib/apt/lists/* \
    && install -d -o "${NB_UID}" -g 100 /opt/mnist/project /opt/mnist/cargo /opt/mnist/cache /opt/mnist/state
USER ${NB_UID}

# The slow layer (about 7 minutes on two cores), first so that it stays cached: the project's build
# of the kernel (kernel/build: evcxr_jupyter with the patches in kernel/). scripts/setup below finds
# it built and does not build it again.
WORKDIR /opt/mnist/project
COPY --chown=${NB_UID}:100 kernel/ kernel/
COPY --chown=${NB_UID}:100 scripts/lib/patched_crate.sh scripts/lib/
RUN MNIST_KERNEL_BUILD_DIR=/tmp/kernel-build kernel/build /opt/mnist/project/.venv \
    && rm -rf /tmp/kernel-build "${CARGO_HOME}/registry" "${CARGO_HOME}/git"

# JupyterLab and the notebook tools (the project's pins), plus what Binder and JupyterHub start:
# `jupyter notebook` and `jupyterhub-singleuser`. Match JUPYTERHUB_VERSION's major version to the
# hub's. scripts/setup finds the venv installed and does not install again.
ARG JUPYTERHUB_VERSION=6.1.1
ARG NOTEBOOK_VERSION=7.6.5
COPY --chown=${NB_UID}:100 scripts/lib/requirements.txt scripts/lib/
RUN python3 -m venv .venv \
    && .venv/bin/pip install --disable-pip-version-check -r scripts/lib/requirements.txt \
        "jupyterhub==${JUPYTERHUB_VERSION}" "notebook==${NOTEBOOK_VERSION}" \
    && cp scripts/lib/requirements.txt .venv/.requirements.installed

# The project (.dockerignore keeps out build outputs and what only the host runs), then the
# project's own setup: prepares the project's Candle (candle/build), registers the kernel and runs
# the notebooks' setup cell once, which compiles Candle and the support crate into the kernel's
# first build folder.
COPY --chown=${NB_UID}:100 . .
RUN scripts/setup

# ---------------------------------------------------------------------------------------------
# The image: the runtime plus the built parts. The project is read-only (root's); what cargo and
# evcxr write at run time (registry lock, cache hit counters, build folders) belongs to the user.
FROM runtime
ARG NB_UID=1000
COPY --from=build --chown=0:0 /opt/mnist/project /opt/mnist/project
COPY --from=build --chown=${NB_UID}:100 /opt/mnist/cargo /opt/mnist/cargo
COPY --from=build --chown=${NB_UID}:100 /opt/mnist/cache /opt/mnist/cache
COPY --from=build --chown=${NB_UID}:100 /opt/mnist/state /opt/mnist/state
# A new notebook gets the Rust kernel, whichever front end starts (lab, notebook, singleuser).
# (The server reads only extensions from jupyter_server_config.d, so this is the main file.)
RUN echo '{"MappingKernelManager": {"default_kernel_name": "rust"}}' \
        >/opt/mnist/project/.venv/etc/jupyter/jupyter_server_config.json
# The crate finds its bundled data sets above the running program or the current folder; a
# notebook runs in ~/notebooks under evcxr, above neither, so the image names the folders.
ENV MNIST_DIR=/opt/mnist/project/data/mnist \
    FASHION_MNIST_DIR=/opt/mnist/project/data/fashion-mnist
USER ${NB_UID}
WORKDIR ${HOME}
EXPOSE 8888
# tini reaps the kernels' compiler processes; container/start copies the notebooks into the home.
ENTRYPOINT ["tini", "--", "/opt/mnist/project/scripts/container/start"]
CMD ["jupyter", "lab", "--ip=0.0.0.0", "--port=8888", "--no-browser"]
