//! The built-in band: its DSP cost per host block, and how the phrases it plays measure as
//! audio. Prints figures; asserts nothing (the safety guarantees are tested in
//! `tests/band_*.rs`).
//!
//! 1. **Cost** at 48 kHz per host block of 64 and 512 samples, median and p99 over many
//!    blocks, with the share of the real-time budget. Each block is timed by this thread's CPU
//!    clock (`CLOCK_THREAD_CPUTIME_ID`, which leaves out time the thread spent pre-empted, so
//!    it stays meaningful on a busy shared machine; the clock's own cost is subtracted) and by
//!    the wall clock. Scenarios: stopped with tails done (idle), playing with no notes (dust
//!    only), a typical loop, the worst case (every voice busy, every texture stage at its
//!    maximum), and a long decay (denormal check: its last seconds must not cost more).
//! 2. **Level** of what `lofi-loom render -o loop.wav` writes: the model's phrases for 10
//!    seeds at the plugin's default knobs, bounced through the engine (2 loops of 4 bars at
//!    82 BPM), for the default sound and each preset: integrated loudness (EBU R128, target
//!    −16 ± 3 LUFS), peak, DC and how long the output takes to fall below −90 dBFS after the
//!    stop.
//!
//! `cargo bench --bench band`

// A benchmark that cannot go on should stop at once, with a message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/band_loop.rs"]
mod band_loop;

use band_loop::{apply, bar_samples, demo_loop, lufs, maxed, peak, sort, Ev, Timeline, FS};
use lofi_loom::audio::band::{Band, Instrument, SoundSettings, DEFAULT_SETTINGS, PRESETS};
use lofi_loom::audio::bounce::{self, BounceSettings};
use lofi_loom::audio::engine::SoundBlock;
use lofi_loom::decoder::Model;
use lofi_loom::music::knobs::Knobs;
use lofi_loom::music::phrase::Phrase;
use lofi_loom::worker::compose;
use lofi_loom::worker::neural::NeuralSource;
use std::hint::black_box;
use std::time::Instant;

/// This thread's CPU time, in microseconds.
fn cpu_us() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a Linux constant.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 * 1e6 + ts.tv_nsec as f64 * 1e-3
}

/// Per-block times, in microseconds.
struct Times {
    /// Thread CPU time, clock overhead subtracted.
    cpu: Vec<f64>,
    /// Wall-clock time.
    wall: Vec<f64>,
}

/// Times every host block of `block` samples over `total` samples, applying `events` at their
/// samples (spans split at events, as the engine does).
fn time_blocks(
    band: &mut Band,
    s: &SoundSettings,
    events: &[(u64, Ev)],
    total: usize,
    block: usize,
) -> Times {
    let (mut l, mut r) = (vec![0.0f32; block], vec![0.0f32; block]);
    let mut times = Times {
        cpu: Vec::with_capacity(total / block + 1),
        wall: Vec::with_capacity(total / block + 1),
    };
    let overhead = (0..1000)
        .map(|_| -cpu_us() + cpu_us())
        .fold(f64::MAX, f64::min);
    let mut next = 0;
    for start in (0..total).step_by(block) {
        let t0 = Instant::now();
        let c0 = cpu_us();
        let mut pos = 0;
        while pos < block {
            while next < events.len() && events[next].0 as usize <= start + pos {
                apply(band, events[next].1);
                next += 1;
            }
            let event_at = events
                .get(next)
                .map_or(usize::MAX, |e| e.0 as usize - start);
            let end = event_at.min(block);
            band.render(s, &mut l[pos..end], &mut r[pos..end]);
            pos = end;
        }
        black_box((&l, &r));
        times.cpu.push((cpu_us() - c0 - overhead).max(0.0));
        times.wall.push(t0.elapsed().as_secs_f64() * 1e6);
    }
    times
}

/// Median and p99 of `times`.
fn quantiles(mut times: Vec<f64>) -> (f64, f64) {
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    (at(0.5), at(0.99))
}

/// Prints median and p99 for one scenario.
fn report(name: &str, block: usize, times: Times) {
    let budget_us = block as f64 / f64::from(FS) * 1e6;
    let pct = |us: f64| 100.0 * us / budget_us;
    let (cm, cp) = quantiles(times.cpu);
    let (wm, wp) = quantiles(times.wall);
    println!(
        "{name:<36} {block:>4} | cpu median {cm:>7.2} µs {:>5.2} %  p99 {cp:>7.2} µs {:>5.2} % | wall median {wm:>7.2}  p99 {wp:>8.2}",
        pct(cm),
        pct(cp),
    );
}

/// Every keys and melody voice sounding, the bass, every drum at once, retriggered so all
/// stay busy (keys every 0.5 s, melody every 0.25 s, drums every 0.1 s).
fn worst_case_events(total: usize) -> Timeline {
    let mut ev: Timeline = vec![(0, Ev::Play(true)), (0, Ev::On(Instrument::Bass, 40, 127))];
    let every = |s: f32| (s * FS) as usize;
    for t in (0..total).step_by(every(0.5)) {
        for k in 0..24 {
            ev.push((t as u64, Ev::On(Instrument::Keys, 40 + k * 2, 127)));
        }
    }
    for t in (0..total).step_by(every(0.25)) {
        for k in 0..6 {
            ev.push((t as u64, Ev::On(Instrument::Melody, 70 + k * 3, 127)));
        }
    }
    for t in (0..total).step_by(every(0.1)) {
        for k in [36, 37, 38, 39, 42, 44, 46, 51, 70, 82] {
            ev.push((t as u64, Ev::On(Instrument::Kit, k, 127)));
        }
    }
    sort(&mut ev);
    ev
}

/// Part 1: cost per block.
fn cost() {
    let maxed = maxed();
    let default = DEFAULT_SETTINGS;
    let bars = 16;
    let loop_len = (bar_samples(FS) * bars as f64) as usize;
    let demo = demo_loop(bars, FS);
    let worst_len = 20 * FS as usize;
    let worst = worst_case_events(worst_len);
    println!(
        "band DSP cost at 48 kHz per host block (real-time budget: 64 = 1333 µs, 512 = 10667 µs)"
    );
    for block in [64, 512] {
        let mut band = Band::new(FS);
        let _ = time_blocks(&mut band, &default, &demo, loop_len / 4, block); // warm-up
        band.reset();
        report(
            "typical: default loop, playing",
            block,
            time_blocks(&mut band, &default, &demo, loop_len, block),
        );

        band.reset();
        report(
            "worst: all voices, all stages max",
            block,
            time_blocks(&mut band, &maxed, &worst, worst_len, block),
        );
        if block == 512 {
            band.reset();
            let (l, r) = band_loop::render_whole(&mut band, &maxed, &worst, worst_len);
            println!("(worst case: peak {:.2} dBFS)", 20.0 * peak(&l, &r).log10());
        }

        band.reset();
        let stop = [(0, Ev::Play(false)), (0, Ev::ReleaseAll)];
        let _ = time_blocks(&mut band, &default, &stop, 5 * FS as usize, block);
        println!("(idle after 5 s of tails: {})", band.is_idle());
        report(
            "stopped, tails done (idle)",
            block,
            time_blocks(&mut band, &default, &[], 60 * FS as usize, block),
        );

        band.reset();
        let dust_only = [(0, Ev::Play(true))];
        report(
            "playing, no notes (dust only)",
            block,
            time_blocks(&mut band, &default, &dust_only, 10 * FS as usize, block),
        );

        // Denormal check: a long held decay at max settings (no dust). The last seconds, when
        // every state is tiny, must cost no more than the first.
        band.reset();
        let quiet = SoundSettings { dust: 0.0, ..maxed };
        let held: Timeline = [36, 48, 55, 64, 71]
            .iter()
            .map(|&k| (0, Ev::On(Instrument::Keys, k, 127)))
            .collect();
        let t = time_blocks(&mut band, &quiet, &held, 40 * FS as usize, block);
        let secs = |s: usize| s * FS as usize / block;
        let part = |a, b| Times {
            cpu: t.cpu[secs(a)..secs(b)].to_vec(),
            wall: t.wall[secs(a)..secs(b)].to_vec(),
        };
        report("long decay, first 5 s", block, part(0, 5));
        report("long decay, 30-35 s (tiny states)", block, part(30, 35));
    }
}

/// Part 2: loudness, peak, DC and decay of bounced phrases.
fn level() {
    let model = match Model::embedded() {
        Ok(model) => model,
        Err(e) => {
            println!("level: the embedded model failed to load: {e}");
            return;
        }
    };
    let knobs = Knobs::default();
    let seeds = 1..=10u64;
    let phrases: Vec<Phrase> = seeds
        .clone()
        .filter_map(|seed| {
            let mut source = NeuralSource::new(&model, "embedded".to_owned()).ok()?;
            let composed = compose::compose(&mut source, &knobs, seed).ok()??;
            Some(composed.phrase)
        })
        .collect();
    println!();
    println!(
        "bounced phrases: seeds {seeds:?} at the default knobs, 2 loops at 82 BPM, 48 kHz (target −16 ± 3 LUFS)"
    );
    let dust_off = SoundSettings {
        dust: 0.0,
        ..DEFAULT_SETTINGS
    };
    let sounds = [("Default", DEFAULT_SETTINGS), ("Dust off", dust_off)]
        .into_iter()
        .chain(PRESETS);
    for (name, settings) in sounds {
        let (mut loudness, mut peaks, mut dcs, mut decays) = (vec![], vec![], vec![], vec![]);
        for phrase in &phrases {
            let b = bounce::bounce(
                phrase,
                &BounceSettings {
                    sample_rate: FS as u32,
                    tempo_bpm: 82.0,
                    time_sig: (4, 4),
                    loops: 2,
                    sound: SoundBlock {
                        built_in: true,
                        settings,
                        kit: knobs.kit,
                    },
                },
            );
            let (l, r) = (&b.left[..b.loop_samples], &b.right[..b.loop_samples]);
            loudness.push(lufs(l, r, FS));
            peaks.push(20.0 * f64::from(peak(&b.left, &b.right)).log10());
            let mean = |x: &[f32]| x.iter().map(|&v| f64::from(v)).sum::<f64>() / x.len() as f64;
            dcs.push(mean(l).abs().max(mean(r).abs()));
            let floor = 10f32.powf(-90.0 / 20.0);
            let tail_l = &b.left[b.loop_samples..];
            let tail_r = &b.right[b.loop_samples..];
            let last = (0..tail_l.len())
                .rev()
                .find(|&i| tail_l[i].abs() > floor || tail_r[i].abs() > floor)
                .map_or(0, |i| i + 1);
            decays.push(last as f64 / f64::from(FS));
        }
        let range = |v: &[f64]| {
            let lo = v.iter().copied().fold(f64::MAX, f64::min);
            let hi = v.iter().copied().fold(f64::MIN, f64::max);
            let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
            (lo, mean, hi)
        };
        let (ll, lm, lh) = range(&loudness);
        let (_, _, ph) = range(&peaks);
        let (_, _, dh) = range(&dcs);
        let (_, dm, dmax) = range(&decays);
        println!(
            "{name:<11} | {lm:>6.1} LUFS (min {ll:.1}, max {lh:.1}) | peak max {ph:>5.1} dBFS | |DC| max {dh:.1e} | below −90 dBFS {dm:.2} s after the stop (max {dmax:.2} s)"
        );
    }
}

fn main() {
    cost();
    level();
}
