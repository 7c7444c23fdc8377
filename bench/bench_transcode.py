"""Our PyAV transcode against the ffmpeg CLI on the same 3-rung ladder; prints figures.

    .venv/bin/python bench/bench_transcode.py [--rounds 3] [--long] [--workdir DIR]

One 1080x1920 15-second clip with audio is generated once; then, alternating, our
`transcode()` (each run in a fresh child process that reports its own wall time and peak
RSS) and the ffmpeg CLI (Debian's, installed here if missing) produce the same ladder:
same sizes, bitrates, x264 preset, GOP and forced keyframes, bicubic scaling from the
source (ours scales the smaller rungs from the top rung's frame: a box filter for an exact
halving, Lanczos otherwise; see encoders.rung_interpolation), AAC 128k, fMP4 HLS with
2-second segments. Before each run it waits (up to a minute) for the CPUs to be quiet and
says how busy they were. --long also transcodes a 3-minute 1080x1920
clip and prints its time and peak RSS. Not a test: the machine is shared, read medians.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from media_svc.transcode.encoders import DEFAULT_PRESET  # noqa: E402
from media_svc.transcode.ladder import Rung, plan_ladder  # noqa: E402
from media_svc.transcode.pipeline import split_encoder_threads  # noqa: E402
from media_svc.transcode.probe import probe  # noqa: E402

WIDTH, HEIGHT, SECONDS, FPS = 1080, 1920, 15.0, 30
LONG_SECONDS = 180.0
SEGMENT_SECONDS = 2.0
RSS_GOAL_MB = 1536
RATIO_GOAL = 0.85


def _cpu_times() -> tuple[int, int]:
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    return sum(fields), fields[3] + fields[4]  # total, idle + iowait


def busy_elsewhere(seconds: float = 1.0) -> float:
    """Share of all CPUs busy over `seconds` (nothing of ours runs meanwhile)."""
    total_before, idle_before = _cpu_times()
    time.sleep(seconds)
    total_after, idle_after = _cpu_times()
    total = total_after - total_before
    return 1.0 - (idle_after - idle_before) / total if total else 0.0


def wait_for_quiet(limit_s: float = 60.0, threshold: float = 0.15) -> float:
    """Waits (a while) until other processes leave the CPUs mostly idle; returns the share."""
    deadline = time.monotonic() + limit_s
    busy = busy_elsewhere()
    while busy > threshold and time.monotonic() < deadline:
        busy = busy_elsewhere()
    return busy


def ensure_ffmpeg() -> str:
    """The ffmpeg CLI, installed from Debian's archive when it is missing."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    print("ffmpeg not found: installing Debian's ffmpeg (apt-get) ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "ffmpeg"], check=True, env=env)
    found = shutil.which("ffmpeg")
    if not found:
        raise SystemExit("ffmpeg is still missing after apt-get install")
    return found


def make_source(path: Path, seconds: float) -> Path:
    if path.exists():
        return path
    from tests.support.clips import make_clip

    started = time.perf_counter()
    make_clip(path.with_suffix(".part.mp4"), WIDTH, HEIGHT, seconds, fps=FPS)
    path.with_suffix(".part.mp4").rename(path)
    print(f"generated {path.name} in {time.perf_counter() - started:.1f} s", flush=True)
    return path


def ffmpeg_command(
    ffmpeg: str, source: Path, out: Path, ladder: list[Rung], same_threads: bool = False
) -> list[str]:
    """The CLI doing our ladder: split + scale per rung, x264 with aligned keyframes, HLS.

    With `same_threads` each x264 gets the thread count our pipeline gives that rung
    (otherwise x264's default, as a CLI user would run it).
    """
    gop = round(SEGMENT_SECONDS * FPS)
    chains = [f"[0:v]split={len(ladder)}" + "".join(f"[s{i}]" for i in range(len(ladder)))]
    chains += [
        f"[s{i}]scale={rung.width}:{rung.height}:flags=bicubic[v{i}]"
        for i, rung in enumerate(ladder)
    ]
    command = [ffmpeg, "-y", "-hide_banner", "-loglevel", "error", "-i", str(source)]
    command += ["-filter_complex", ";".join(chains)]
    for index in range(len(ladder)):
        command += ["-map", f"[v{index}]"]
    command += ["-map", "0:a"]
    command += ["-c:v", "libx264", "-preset", DEFAULT_PRESET, "-profile:v", "high"]
    command += ["-x264-params", f"keyint={gop}:min-keyint={gop}:scenecut=0:open-gop=0"]
    command += ["-force_key_frames", f"expr:gte(t,n_forced*{SEGMENT_SECONDS:g})"]
    threads = split_encoder_threads(ladder, 0)
    for index, rung in enumerate(ladder):
        if same_threads:
            command += [f"-threads:v:{index}", str(threads[rung.name])]
        command += [f"-b:v:{index}", f"{rung.video_bitrate_kbps}k"]
        command += [f"-maxrate:v:{index}", f"{rung.max_bitrate_kbps}k"]
        command += [f"-bufsize:v:{index}", f"{rung.max_bitrate_kbps * 2}k"]
    command += ["-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2"]
    stream_map = " ".join(f"v:{i},agroup:aud" for i in range(len(ladder))) + " a:0,agroup:aud"
    command += ["-f", "hls", "-hls_time", f"{SEGMENT_SECONDS:g}", "-hls_playlist_type", "vod"]
    command += ["-hls_segment_type", "fmp4", "-hls_flags", "independent_segments"]
    command += ["-master_pl_name", "master.m3u8", "-var_stream_map", stream_map]
    command += ["-hls_segment_filename", str(out / "%v" / "seg_%05d.m4s")]
    command += ["-hls_fmp4_init_filename", "init.mp4", str(out / "%v" / "playlist.m3u8")]
    return command


def run_cli(command: list[str], out: Path) -> dict[str, float]:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    started = time.perf_counter()
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"ffmpeg failed ({process.returncode}): {' '.join(command)}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024}


def run_ours(source: Path, out: Path) -> dict[str, float]:
    """One transcode in a fresh child process (so its peak RSS is its own)."""
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, __file__, "--child", str(source), str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    process_wall = time.perf_counter() - started
    figures = json.loads(completed.stdout.strip().splitlines()[-1])
    figures["process_wall"] = process_wall
    return figures


def child(source: Path, out: Path) -> None:
    """Runs in the child: probe, plan, transcode; prints its own figures as JSON."""
    from media_svc.transcode.pipeline import transcode

    info = probe(source)
    ladder = plan_ladder(info)
    cpu_before = time.process_time()
    started = time.perf_counter()
    transcode(source, out, ladder, segment_seconds=SEGMENT_SECONDS)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_before
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"wall": wall, "cpu": cpu, "rss_mb": rss_mb}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--long", action="store_true", help="also a 3-minute clip (slow)")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument(
        "--cli-same-threads",
        action="store_true",
        help="give each CLI x264 the thread count our pipeline gives that rung",
    )
    parser.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    ffmpeg = ensure_ffmpeg()
    version = subprocess.run([ffmpeg, "-version"], capture_output=True, text=True, check=True)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-transcode-"))
    workdir.mkdir(parents=True, exist_ok=True)
    source = make_source(workdir / f"source_{WIDTH}x{HEIGHT}_{SECONDS:g}s.mp4", SECONDS)
    ladder = plan_ladder(probe(source))
    print(f"ffmpeg CLI: {version.stdout.splitlines()[0]}")
    rungs = ", ".join(f"{r.name} {r.width}x{r.height} {r.video_bitrate_kbps}k" for r in ladder)
    print(f"ladder: {rungs}")
    print(
        f"x264 preset {DEFAULT_PRESET}, GOP {SEGMENT_SECONDS:g} s, bicubic scaling from the "
        "source (ours: smaller rungs from the top rung, box filter for a halving, else Lanczos)"
    )
    print(f"{os.cpu_count()} CPUs, {args.rounds} rounds, alternating")
    command = ffmpeg_command(ffmpeg, source, workdir / "cli", ladder, args.cli_same_threads)
    threads = split_encoder_threads(ladder, 0)
    cli_threads = "the same" if args.cli_same_threads else "x264's default (auto)"
    print(f"x264 threads: ours {threads}, CLI {cli_threads}")
    ours, cli = [], []
    for round_index in range(args.rounds):
        # Alternate who goes first: a noisy neighbour should hit both sides alike.
        order = ["ours", "cli"] if round_index % 2 == 0 else ["cli", "ours"]
        for side in order:
            busy = wait_for_quiet()
            if side == "ours":
                ours.append(run_ours(source, workdir / "ours"))
                figures = ours[-1]
            else:
                cli.append(run_cli(command, workdir / "cli"))
                figures = cli[-1]
            print(
                f"round {round_index + 1} {side:>4}: {figures['wall']:6.2f} s wall, "
                f"{figures['cpu']:6.2f} s CPU, peak RSS {figures['rss_mb']:.0f} MB "
                f"(CPUs {busy:.0%} busy elsewhere at the start)",
                flush=True,
            )
    if ours and cli:
        summarise(ours, cli)
        print_quality(ffmpeg, source, ladder, workdir)
    if args.long:
        long_source = make_source(
            workdir / f"source_{WIDTH}x{HEIGHT}_{LONG_SECONDS:g}s.mp4", LONG_SECONDS
        )
        figures = run_ours(long_source, workdir / "ours-long")
        verdict = "meets" if figures["rss_mb"] < RSS_GOAL_MB else "misses"
        print(
            f"3-minute clip, ours: {figures['wall']:.1f} s wall, {figures['cpu']:.1f} s CPU, "
            f"peak RSS {figures['rss_mb']:.0f} MB ({verdict} the goal < {RSS_GOAL_MB} MB)"
        )
    print(f"work files: {workdir}")


def summarise(ours: list[dict[str, float]], cli: list[dict[str, float]]) -> None:
    ours_wall = statistics.median(run["wall"] for run in ours)
    ours_process = statistics.median(run["process_wall"] for run in ours)
    cli_wall = statistics.median(run["wall"] for run in cli)
    ratio = ours_wall / cli_wall
    ours_cpu = statistics.median(run["cpu"] for run in ours)
    cli_cpu = statistics.median(run["cpu"] for run in cli)
    print()
    print(f"median wall, ours (transcode call): {ours_wall:.2f} s")
    print(f"median wall, ours (whole process incl. Python start + probe): {ours_process:.2f} s")
    print(f"median wall, ffmpeg CLI: {cli_wall:.2f} s")
    print(f"ratio ours/CLI (of the medians): {ratio:.2f}")
    print(f"ratio ours/CLI counting our process start: {ours_process / cli_wall:.2f}")
    print(f"median CPU time: ours {ours_cpu:.2f} s, CLI {cli_cpu:.2f} s ({ours_cpu / cli_cpu:.2f})")
    # The wall ratio is the CPU ratio times how well each side keeps the CPUs busy: with
    # both near the machine's CPU count, only less work can make the wall time shorter.
    ours_busy = statistics.median(run["cpu"] / run["wall"] for run in ours)
    cli_busy = statistics.median(run["cpu"] / run["wall"] for run in cli)
    print(
        f"CPUs kept busy (CPU time / wall time, median): ours {ours_busy:.2f}, "
        f"CLI {cli_busy:.2f}, of {len(os.sched_getaffinity(0))}"
    )
    # Rounds run back to back, so each round's pair shares the machine's state: the median
    # of the per-round ratios is steadier than the ratio of medians on a noisy machine.
    paired = [o["wall"] / c["wall"] for o, c in zip(ours, cli, strict=False)]
    median_paired = statistics.median(paired)
    verdict = "meets" if median_paired <= RATIO_GOAL else "misses"
    print(
        f"ratio ours/CLI, per round: {', '.join(f'{r:.2f}' for r in paired)}; "
        f"median {median_paired:.2f} ({verdict} the goal <= {RATIO_GOAL})"
    )
    print(f"peak RSS ours (15 s clip): {max(run['rss_mb'] for run in ours):.0f} MB")


def rung_ssim(ffmpeg: str, source: Path, rendition: Path, rung: Rung) -> float:
    """SSIM (all planes) of one rendition against a Lanczos downscale of the source."""
    graph = (
        f"[1:v]setpts=PTS-STARTPTS,scale={rung.width}:{rung.height}:flags=lanczos[ref];"
        "[0:v]setpts=PTS-STARTPTS[out];[out][ref]ssim"
    )
    command = [ffmpeg, "-nostats", "-i", str(rendition), "-i", str(source)]
    result = subprocess.run(
        [*command, "-lavfi", graph, "-f", "null", "-"], capture_output=True, text=True, check=True
    )
    found = re.search(r"All:([0-9.]+)", result.stderr)
    if found is None:
        raise SystemExit(f"no SSIM in ffmpeg's output for {rendition}")
    return float(found.group(1))


def joined(directory: Path, target: Path) -> Path:
    """The init segment and media segments of one rung as one playable file."""
    parts = sorted(directory.glob("init*.mp4")) + sorted(directory.glob("seg_*.m4s"))
    target.write_bytes(b"".join(part.read_bytes() for part in parts))
    return target


def print_quality(ffmpeg: str, source: Path, ladder: list[Rung], workdir: Path) -> None:
    """Same quality, or the speed means nothing: SSIM and size per rung, both sides."""
    print("quality (SSIM vs a Lanczos downscale of the source; video bytes):")
    for index, rung in enumerate(ladder):
        sides = {"ours": workdir / "ours" / rung.name, "CLI": workdir / "cli" / str(index)}
        figures = []
        for side, directory in sides.items():
            rendition = joined(directory, workdir / f"{side}-{rung.name}.mp4")
            ssim = rung_ssim(ffmpeg, source, rendition, rung)
            figures.append(f"{side} {ssim:.4f}, {rendition.stat().st_size / 1e6:.2f} MB")
            rendition.unlink()
        print(f"  {rung.name}: " + "; ".join(figures))


if __name__ == "__main__":
    main()
