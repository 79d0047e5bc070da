# rappel in a container: `docker compose up` (see compose.yaml) runs it beside Postgres.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p rappel

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* && useradd --system --home /var/lib/rappel rappel
COPY --from=build /src/target/release/rappel /usr/local/bin/rappel
COPY config/rappel.toml /etc/rappel/rappel.toml
USER rappel
WORKDIR /var/lib/rappel
ENV RAPPEL_CONFIG=/etc/rappel/rappel.toml
EXPOSE 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/rappel"]
CMD ["run"]
