# syntax=docker/dockerfile:1
# The connector image, in the style of Airbyte's Python connectors.
#
#   docker build -t airbyte/source-calltracking:dev .
#   docker run --rm airbyte/source-calltracking:dev spec
#
# BASE_IMAGE defaults to Airbyte's Python connector base image, pinned by tag and digest; it is
# the same value as `connectorBuildOptions.baseImage` in metadata.yaml (a test keeps them equal).
# Version 4.1.0 is Airbyte's current base, on Python 3.13 (the connector supports 3.11-3.13).
# The digest was not checked against Docker Hub (no registry access here): it is the one that every
# Python 3.13 upgrade log of an Airbyte connector found in public GitHub text records for 4.1.0.
# tools/container_smoke_test.sh builds this same file offline on a local Debian trixie base with
# Python 3.13, passing BASE_IMAGE and PIP_INSTALL_OPTIONS="--no-index --find-links=wheelhouse".
ARG BASE_IMAGE=docker.io/airbyte/python-connector-base:4.1.0@sha256:1d1aa21d34e851df4e8a87b391c27724c06e2597608e7161f4d167be853bd7b6
FROM ${BASE_IMAGE}

# Extra options for `pip install`, e.g. to install from a local wheelhouse without network.
ARG PIP_INSTALL_OPTIONS=""
# Kept equal to the version in pyproject.toml and dockerImageTag in metadata.yaml (tested).
ARG CONNECTOR_VERSION=0.2.0

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
