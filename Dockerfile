# The voice gateway image. Two stages: `build` compiles with every package, `runtime` keeps only
# what serving needs and runs as a non-root user.
#
#   podman build -t voice-gateway .                                  # with local engines
#   podman build -t voice-gateway --build-arg LOCAL_ENGINES=false .  # Riva + NIM only: small
#
# BASE_IMAGE must hold Node.js 20+ (with npm for the build stage) on Debian.
ARG BASE_IMAGE=node:20-bookworm-slim

FROM ${BASE_IMAGE} AS build
WORKDIR /app
# onnxruntime-node's install step would download GPU binaries; its CPU binaries ship in the package.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json ./
# npm install keeps the lock's versions and, unlike npm ci, tolerates a registry mirror that lacks
# the lock's other-platform optional packages.
RUN npm install --no-audit --no-fund --loglevel=error
# The sources (.dockerignore keeps tests, deploy files and local builds out).
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund --loglevel=error

ARG LOCAL_ENGINES=true
# Without local engines their packages go; with them, only the CPU build of llama.cpp stays
# (the CUDA and Vulkan builds are most of node_modules and need a GPU image anyway).
# onnxruntime-web only comes along with the package that ships the Silero model files (the
# gateway runs them with onnxruntime-node); typescript only with node-llama-cpp.
RUN rm -rf node_modules/onnxruntime-web \
    && if [ "$LOCAL_ENGINES" = "true" ]; then \
      rm -rf node_modules/@node-llama-cpp/*cuda* node_modules/@node-llama-cpp/*vulkan* \
             node_modules/@node-llama-cpp/mac-* node_modules/@node-llama-cpp/win-* \
             node_modules/@node-llama-cpp/linux-arm*; \
    else \
      rm -rf node_modules/node-llama-cpp node_modules/@node-llama-cpp node_modules/onnxruntime-node \
             node_modules/onnxruntime-common node_modules/koffi node_modules/@ricky0123 node_modules/typescript; \
    fi

FROM ${BASE_IMAGE} AS runtime
ARG LOCAL_ENGINES=true
RUN if [ "$LOCAL_ENGINES" = "true" ]; then \
      apt-get update && apt-get install -y --no-install-recommends \
        espeak-ng libespeak-ng1 pocketsphinx pocketsphinx-en-us ca-certificates \
      && rm -rf /var/lib/apt/lists/*; \
    fi \
    && (getent group 10001 || groupadd --gid 10001 gateway) \
    && (getent passwd 10001 || useradd --uid 10001 --gid 10001 --home-dir /app --no-create-home --shell /usr/sbin/nologin gateway)
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/proto ./proto
COPY --from=build /app/bin ./bin
ENV NODE_ENV=production LOCAL_ENGINES=${LOCAL_ENGINES}
USER 10001:10001
EXPOSE 50051 8080
ENTRYPOINT ["node", "bin/voice-gateway.js"]
CMD ["serve"]
