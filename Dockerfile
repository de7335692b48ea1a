# policyengine's HTTP API in a container:
#   docker build -t policyengine .
#   docker run --rm -p 127.0.0.1:8000:8000 policyengine      # then http://127.0.0.1:8000/docs
# Inside the container the server binds 0.0.0.0 so that the published port reaches it; publish
# it on 127.0.0.1 (as above) unless it should be reachable from other machines.
# durable_rules builds a C extension, hence the compiler in the build stage only.

FROM python:3.12-slim AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
COPY rules ./rules
COPY scenarios ./scenarios
COPY docs/schema ./docs/schema
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[serve]"

FROM python:3.12-slim
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels "mn-ice-policyengine[serve]" \
    && rm -rf /wheels
USER nobody
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=3)"
CMD ["policyengine", "serve", "--host", "0.0.0.0", "--port", "8000"]
