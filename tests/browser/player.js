// The page side of the browser playback test. One player (hls.js or dash.js) plays one
// manifest; `window.reels.rungs()` lists the video rungs the player parsed from it and
// `window.reels.playRung(rung, options)` forces a rung (ABR off), plays from the start and
// resolves once the <video> element has decoded frames of exactly that rung's size while
// its clock advanced `thresholdS` seconds. Every player error and media element error is
// logged in `window.reels.errors` (`fatal` when the player gave up).
"use strict";

(function () {
  const params = new URLSearchParams(location.search);
  const kind = params.get("player");
  const manifestUrl = params.get("manifest");
  const video = document.getElementById("video");
  const errors = [];
  const events = [];
  const t0 = performance.now();
  const stamp = (type, fields) => events.push({ t: Math.round(performance.now() - t0), type, ...fields });
  const fail = (fields) => {
    errors.push(fields);
    stamp("error", fields);
  };
  video.addEventListener("error", () => {
    const error = video.error;
    fail({ source: "video", fatal: true, code: error && error.code, message: error && error.message });
  });
  for (const type of ["playing", "waiting", "seeking", "seeked", "ended", "resize"]) {
    video.addEventListener(type, () =>
      stamp(type, { time: video.currentTime, width: video.videoWidth, height: video.videoHeight }),
    );
  }

  function hlsPlayer() {
    if (!Hls.isSupported()) throw new Error("hls.js: MediaSource is not supported in this browser");
    // No cap to the element's size, so the top rung is really decoded.
    const hls = new Hls({ capLevelToPlayerSize: false, debug: false });
    const parsed = new Promise((resolve) => {
      hls.on(Hls.Events.MANIFEST_PARSED, (_, data) =>
        resolve(
          data.levels.map((level, index) => ({
            id: String(index),
            width: level.width,
            height: level.height,
            bandwidth: level.bitrate,
            codecs: [level.videoCodec, level.audioCodec].filter(Boolean).join(","),
            url: Array.isArray(level.url) ? level.url[0] : level.url,
          })),
        ),
      );
    });
    hls.on(Hls.Events.ERROR, (_, d) => {
      const fields = {
        source: "hls.js",
        fatal: Boolean(d.fatal),
        kind: d.type,
        details: d.details,
        url: (d.frag && d.frag.url) || (d.context && d.context.url) || null,
        status: d.response && d.response.code,
      };
      if (d.fatal) fail(fields);
      else stamp("warning", fields);
    });
    hls.on(Hls.Events.LEVEL_SWITCHED, (_, d) => stamp("switched", { level: d.level }));
    hls.on(Hls.Events.FRAG_CHANGED, (_, d) => stamp("frag", { level: d.frag.level, sn: d.frag.sn }));
    hls.loadSource(manifestUrl);
    hls.attachMedia(video);
    return {
      rungs: () => parsed,
      // Manual level: ABR off, the buffer flushed, and only this level loaded from now on.
      force: (rung) => {
        hls.currentLevel = Number(rung.id);
      },
      playing: () => String(hls.currentLevel),
      name: `hls.js ${Hls.version}`,
    };
  }

  function dashPlayer() {
    const events = dashjs.MediaPlayer.events;
    const player = dashjs.MediaPlayer().create();
    player.updateSettings({
      debug: { logLevel: dashjs.Debug.LOG_LEVEL_WARNING },
      streaming: {
        abr: { autoSwitchBitrate: { video: false, audio: false } },
        // A forced switch clears the buffer and seeks the element a hair forward, which
        // resets Chromium's decoder: the new rung shows at once, not after the old
        // rung's frames already handed to the decoder have played out.
        buffer: { fastSwitchEnabled: true, flushBufferAtTrackSwitch: true },
      },
    });
    const parsed = new Promise((resolve) => {
      player.on(events.STREAM_INITIALIZED, () =>
        resolve(
          player.getRepresentationsByType("video").map((r) => ({
            id: r.id,
            width: r.width,
            height: r.height,
            bandwidth: r.bandwidth,
            codecs: r.codecs,
          })),
        ),
      );
    });
    // dash.js reports through ERROR what it could not recover from (a manifest or segment
    // that failed after its retries, a media error): each one is fatal for this test.
    player.on(events.ERROR, (e) => {
      const error = e.error || {};
      fail({ source: "dash.js", fatal: true, code: error.code, message: error.message || String(e.error) });
    });
    player.on(events.PLAYBACK_ERROR, (e) =>
      fail({ source: "dash.js", fatal: true, message: String(e.error && (e.error.message || e.error)) }),
    );
    player.on(events.QUALITY_CHANGE_RENDERED, (e) => {
      if (e.mediaType === "video") stamp("switched", { id: e.newRepresentation && e.newRepresentation.id });
    });
    player.initialize(video, manifestUrl, false);
    return {
      rungs: () => parsed,
      force: (rung) => player.setRepresentationForTypeById("video", rung.id, true),
      playing: () => {
        const current = player.getCurrentRepresentationForType("video");
        return current ? current.id : null;
      },
      name: `dash.js ${dashjs.Version || player.getVersion()}`,
    };
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  let adapter = null;
  let setupError = null;
  try {
    adapter = kind === "hls" ? hlsPlayer() : kind === "dash" ? dashPlayer() : null;
    if (!adapter) throw new Error(`unknown player ${kind}`);
  } catch (error) {
    setupError = String(error && error.stack ? error.stack : error);
    fail({ source: "page", fatal: true, message: setupError });
  }

  // Plays as the player chose (before any rung is forced: a forced switch before the
  // first fragment is in can leave hls.js idle) until the clock has advanced.
  async function start({ timeoutMs }) {
    const started = performance.now();
    video.play().catch((error) => stamp("play-rejected", { message: String(error) }));
    while (performance.now() - started < timeoutMs) {
      if (errors.some((e) => e.fatal)) break;
      if (!video.paused && video.currentTime > 0.2) {
        return { ok: true, time: video.currentTime, ms: Math.round(performance.now() - started) };
      }
      await sleep(50);
    }
    return { ok: false, time: video.currentTime, readyState: video.readyState, paused: video.paused };
  }

  async function seekToStart(timeoutMs) {
    if (video.currentTime === 0 && !video.seeking) return;
    const seeked = new Promise((resolve) => {
      video.addEventListener("seeked", resolve, { once: true });
      setTimeout(resolve, timeoutMs);
    });
    video.currentTime = 0;
    await seeked;
  }

  async function playRung(rung, { thresholdS, timeoutMs }) {
    const started = performance.now();
    // Back to the start first (so a short clip always leaves room to play), then the
    // switch: the player replaces what it buffered ahead of the playhead with this rung.
    await seekToStart(timeoutMs / 4);
    stamp("force", { rung: rung.id });
    adapter.force(rung);
    video.play().catch((error) => stamp("play-rejected", { message: String(error) }));
    // `since`: where the clock was when frames of this rung's size first showed while playing.
    let since = null;
    let lastTime = video.currentTime;
    while (performance.now() - started < timeoutMs) {
      if (errors.some((e) => e.fatal)) break;
      const exact = video.videoWidth === rung.width && video.videoHeight === rung.height;
      if (video.ended) {
        // Ran out before the threshold (slow start): play it again from the start.
        since = null;
        video.currentTime = 0;
        video.play().catch(() => {});
      } else if (exact && video.currentTime > lastTime) {
        if (since === null) since = lastTime;
        if (video.currentTime - since >= thresholdS) {
          return {
            rung: rung.id,
            ok: true,
            width: video.videoWidth,
            height: video.videoHeight,
            from: since,
            to: video.currentTime,
            playerRung: adapter.playing(),
            ms: Math.round(performance.now() - started),
          };
        }
      } else if (!exact) {
        since = null;
      }
      lastTime = video.currentTime;
      await sleep(50);
    }
    return {
      rung: rung.id,
      ok: false,
      width: video.videoWidth,
      height: video.videoHeight,
      time: video.currentTime,
      readyState: video.readyState,
      paused: video.paused,
      playerRung: adapter && adapter.playing(),
      ms: Math.round(performance.now() - started),
    };
  }

  window.reels = {
    player: adapter ? adapter.name : null,
    errors,
    events,
    rungs: () => (adapter ? adapter.rungs() : Promise.reject(new Error(setupError))),
    start,
    playRung,
  };
})();
