# One image for every calcbench pod: both calculator stacks and the load generator.
#   docker build -t calcbench:0.1.0 .
# Entry points (see k8s/): `python -m calculator_rest SERVICE ...`,
# `python -m calculator_grpc SERVICE ...` and `calcbench load ...`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src

# Dependencies first, in their own layer, so that a code change does not reinstall them.
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -c constraints.txt -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
RUN pip install --no-deps -c constraints.txt . \
    && useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin calcbench

# The pods run with a read-only root filesystem and /tmp as an emptyDir.
WORKDIR /tmp
USER 10001:10001
EXPOSE 8080 9090
CMD ["calcbench", "--help"]
