# syntax=docker/dockerfile:1
# The connector image, in the style of Airbyte's Python connectors.
#
#   docker build -t airbyte/source-calltracking:dev .
#   docker run --rm airbyte/source-calltracking:dev spec
#
# BASE_IMAGE defaults to Airbyte's Python connector base image, pinned by tag and digest; it is
# the same value as `connectorBuildOptions.baseImage` in metadata.yaml (a test keeps them equal).
# Version 4.0.2 is the newest base on Python 3.11, which the connector requires (4.1.x is 3.13).
# tools/container_smoke_test.sh builds this same file offline on a local Debian base, passing
# BASE_IMAGE and PIP_INSTALL_OPTIONS="--no-index --find-links=wheelhouse".
ARG BASE_IMAGE=docker.io/airbyte/python-connector-base:4.0.2@sha256:9fdb1888c4264cf6fee473649ecb593f56f58e5d0096a87ee0b231777e2e3e73
FROM ${BASE_IMAGE}

# Extra options for `pip install`, e.g. to install from a local wheelhouse without network.
ARG PIP_INSTALL_OPTIONS=""
# Kept equal to the version in pyproject.toml and dockerImageTag in metadata.yaml (tested).
ARG CONNECTOR_VERSION=0.1.1

WORKDIR /airbyte/integration_code

# .dockerignore keeps tests, docs, virtual environments and caches out of the context.
COPY . ./
RUN pip install --no-cache-dir ${PIP_INSTALL_OPTIONS} . \
    && rm -rf wheelhouse build *.egg-info

ENV AIRBYTE_ENTRYPOINT="source-calltracking"
ENTRYPOINT ["source-calltracking"]

LABEL io.airbyte.name=airbyte/source-calltracking
LABEL io.airbyte.version=${CONNECTOR_VERSION}

# Airbyte's base images provide the unprivileged `airbyte` user; connectors run as it.
USER airbyte
