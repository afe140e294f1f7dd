# Berth's image. BASE_IMAGE is a Debian bookworm image with Node >= 20 on PATH: the
# official Node image by default; CI, which has no Docker Hub, passes a base it
# assembles itself (conformance/docker-image/run.sh). Works with the classic builder.
ARG BASE_IMAGE=node:20-bookworm-slim

# Build stage: compile TypeScript and the native SQLite binding.
FROM ${BASE_IMAGE} AS build
WORKDIR /src
# better-sqlite3 compiles from source when no prebuilt binary can be fetched, so the
# compiler and node-gyp's python come first (skipped when the base already has them).
RUN if ! command -v g++ >/dev/null || ! command -v make >/dev/null || ! command -v python3 >/dev/null; then \
      apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
      && rm -rf /var/lib/apt/lists/*; \
    fi
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The runtime stage's files, laid out as they land there, so one COPY brings them all
# (with the vfs storage driver every instruction copies the whole image). The berth
# account is written directly: a minimal Debian base has no useradd (passwd is not
# essential); the application stays root-owned, only the data directory is berth's.
RUN npm run build && npm prune --omit=dev \
    && mkdir -p /out/app /out/etc /out/var/lib/berth \
    && cp -a package.json node_modules dist /out/app/ \
    && cp /etc/passwd /etc/group /out/etc/ \
    && echo 'berth:x:10001:' >>/out/etc/group \
    && echo 'berth:x:10001:10001:Berth registry:/var/lib/berth:/usr/sbin/nologin' >>/out/etc/passwd \
    && chown 10001:10001 /out/var/lib/berth

# Runtime stage: only what serving needs, as an unprivileged user.
FROM ${BASE_IMAGE}
COPY --from=build /out/ /
ENV NODE_ENV=production \
    BERTH_ADDR=0.0.0.0:5000 \
    BERTH_DATA=/var/lib/berth
WORKDIR /app
USER berth
VOLUME /var/lib/berth
EXPOSE 5000
# node's own fetch, so the check needs no curl; it follows the port BERTH_ADDR names.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD ["node", "-e", "const a=process.env.BERTH_ADDR||'';fetch('http://127.0.0.1:'+(a.slice(a.lastIndexOf(':')+1)||'5000')+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["serve"]
