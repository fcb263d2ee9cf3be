# Two images from one file (see k8s/README.md), tagged by the build, never by this file:
#   docker build --target service   -t calcbench:$TAG .             the five calculator services
#   docker build --target generator -t calcbench-generator:$TAG .   the load generator and analysis
# The service image has no pandas and no matplotlib: only the generator's needs them.
# Parameters: --build-arg PYTHON_VERSION=3.12, or BASE_IMAGE=any Debian-based Python image.
ARG PYTHON_VERSION=3.11
ARG BASE_IMAGE=python:${PYTHON_VERSION}-slim

FROM ${BASE_IMAGE} AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin calcbench

# The dependencies, pinned by constraints.txt, in a virtual environment the final stages copy.
# In their own layers, so that a code change does not reinstall them.
FROM base AS dependencies
WORKDIR /src
COPY pyproject.toml constraints.txt ./
RUN python -m venv /opt/calcbench \
    && python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > requirements.txt \
    && /opt/calcbench/bin/pip install -c constraints.txt -r requirements.txt

FROM dependencies AS generator-dependencies
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['optional-dependencies']['analysis']))" \
        > analysis.txt \
    && /opt/calcbench/bin/pip install -c constraints.txt -r analysis.txt

FROM dependencies AS service-build
COPY . .
RUN /opt/calcbench/bin/pip install --no-deps -c constraints.txt .

FROM generator-dependencies AS generator-build
COPY . .
RUN /opt/calcbench/bin/pip install --no-deps -c constraints.txt .

FROM base AS generator
COPY --from=generator-build /opt/calcbench /opt/calcbench
ENV PATH=/opt/calcbench/bin:$PATH
# The pods run with a read-only root filesystem and /tmp as an emptyDir.
WORKDIR /tmp
USER 10001:10001
CMD ["calcbench", "k8s", "generate"]

# Last, so that a plain `docker build .` gives the slim image.
FROM base AS service
COPY --from=service-build /opt/calcbench /opt/calcbench
ENV PATH=/opt/calcbench/bin:$PATH
WORKDIR /tmp
USER 10001:10001
EXPOSE 8080 9090
CMD ["python", "-m", "calculator_rest", "--help"]
