# facebench, CPU image: the torch-free core (ONNX Runtime) plus LiteRT, SciPy and the report extras.
# It runs every ONNX detector (YuNet, SCRFD, YOLO-face), the LiteRT models (BlazeFace, FaceMesh,
# MobileFaceNet) and any recognizer exported with `facebench export NAME --out F.onnx` (-r onnx:F.onnx).
#
#   docker build -t facebench .
#   docker run --rm -v /path/to/shared:/data:ro facebench models verify
#   docker run --rm -v /path/to/shared:/data:ro -v "$PWD/runs:/runs" facebench \
#       benchmark --detectors yunet --recognizers mobilefacenet_tflite --out /runs/benchmark
#
# Build arguments:
#   EXTRAS       facebench extras to install (default litert,metrics,report)
#   TORCH        a pip requirement for torch, e.g. a wheel copied into docker/wheels/
#                (TORCH=/wheels/torch-2.13.0+cpu-cp311-cp311-linux_x86_64.whl) or, where PyTorch's index is
#                reachable, "torch --index-url https://download.pytorch.org/whl/cpu"; PyPI alone serves the
#                multi-GB CUDA build. Add torch to EXTRAS with it: EXTRAS=torch,litert,metrics,report
#   BASE         the base image; CUDA variant: see docker/README.md
ARG BASE=debian:bookworm-slim
FROM ${BASE}

ARG EXTRAS=litert,metrics,report
ARG TORCH=
ENV DEBIAN_FRONTEND=noninteractive \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    FACEBENCH_HOME=/data

RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv /opt/facebench

# torch (when asked for) comes first, so that nothing later pulls another build of it
COPY docker/wheels/ /wheels/
RUN if [ -n "$TORCH" ]; then /opt/facebench/bin/pip install $TORCH; fi

COPY pyproject.toml README.md /src/
COPY src /src/src
RUN /opt/facebench/bin/pip install "/src[${EXTRAS}]" && rm -rf /src /wheels

RUN useradd --create-home --uid 1000 facebench
USER facebench
WORKDIR /home/facebench
VOLUME ["/data"]
ENTRYPOINT ["/opt/facebench/bin/facebench"]
CMD ["--help"]
