# Switchboard server image (Debian 12). Media is UDP: run with --network host,
# or publish the HTTP port and the UDP media ports and set --announce to the
# host's address, e.g.
#   docker run -p 8080:8080 -p 40000-40001:40000-40001/udp \
#     -e SWITCHBOARD_ANNOUNCE=192.0.2.10 -e SWITCHBOARD_WORKERS=2 switchboard
FROM debian:bookworm AS build
WORKDIR /src
COPY scripts/setup scripts/setup
RUN scripts/setup --build-only
COPY . .
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DSB_TESTS=OFF -DSB_BENCH=OFF \
 && cmake --build build -j"$(nproc)" --target switchboard

FROM debian:bookworm-slim
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends \
      libssl3 libsrtp2-1 libusrsctp2 libspdlog1.10 libfmt9 libboost-json1.81.0 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/src/app/switchboard /usr/local/bin/switchboard
COPY web /usr/share/switchboard/web
ENV SWITCHBOARD_WEB_ROOT=/usr/share/switchboard/web
EXPOSE 8080/tcp 40000-40031/udp
ENTRYPOINT ["/usr/local/bin/switchboard"]
