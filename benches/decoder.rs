//! `cargo bench --bench decoder`: what the neural decoder costs on one core, printed next to
//! its targets (8-bar phrase ≤ 1 ms; tract ≤ 1.0× onnxruntime on the same graph; load ≤ 50 ms).
//! Not a test: figures vary with the machine and its load, and nothing is asserted.
//!
//! * model load + optimise: the plain bar graph and the mode graph, with the interface checks
//!   and the vocabulary probes (what activation pays), and the nucleus bar graph, which the
//!   embedded model loads when a phrase first samples below top-p 1;
//! * one bar-graph call (a 1-bar phrase with the mode fixed), and the mode graph by difference;
//! * an 8-bar phrase: draws → mode graph → 8 bar calls → tokens → progression → rendered into
//!   a pooled phrase, as the worker does it (top-p 1: the plain graph);
//! * the same tokens with the nucleus graph, as every phrase ran before the plain graph;
//! * the 8 candidates of a phrase (one batched call per bar), scored, the closest chosen;
//! * controllability over a 5 × 5 grid of Energy and Valence × 40 seeds, with the seed's own
//!   phrase (one candidate) and with the closest of 8: Spearman ρ of each knob against its
//!   measured descriptor, the mean |knob − descriptor|, the cross-talk, and the distinct
//!   progressions among 100 seeds;
//! * the same loop in onnxruntime (Python, one thread) on the same ONNX files, for each bar
//!   graph, when `models/train/.venv/bin/python` with onnxruntime exists; then the ratios.

// A test or benchmark that cannot go on should stop at once, with a message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/rank.rs"]
mod rank;

use lofi_loom::decoder::{
    DecodeInputs, Draws, GenerateParams, Generator, ModeInput, Model, BAR_CANDIDATES_GRAPH_FILE,
    BAR_GRAPH_FILE, BAR_PLAIN_GRAPH_FILE, CANDIDATES,
};
use lofi_loom::music::phrase::Phrase;
use lofi_loom::music::progression::{Chord, Mode, Quality, MAX_BARS};
use lofi_loom::music::render::{render_into, RenderSettings};
use rank::spearman;
use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// The folder holding the ONNX files the embedded model is built from (for onnxruntime); keep
/// it the same as `embedded_model_dir!` in `src/decoder/model.rs`.
const MODEL_DIR: &str = "models";
/// The training environment's Python, with onnxruntime.
const PYTHON: &str = "models/train/.venv/bin/python";
/// Phrases timed per figure.
const RUNS: usize = 300;

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "MISSED"
    }
}

/// The same loop in onnxruntime, kept with the training pipeline (`lofi_train.bench_ort`, run
/// from [`TRAIN_DIR`]): load, then per phrase the mode graph and 8 bar calls with fresh
/// inputs. Prints `load_ms bar_median_us bar_min_us phrase_median_us phrase_min_us`.
const ORT_MODULE: &str = "lofi_train.bench_ort";
/// Where the training pipeline's Python package lives.
const TRAIN_DIR: &str = "models/train";

/// onnxruntime's figures.
struct OrtFigures {
    /// Load of both sessions, ms (median).
    load_ms: f64,
    /// One bar call.
    bar: Stats,
    /// Mode graph + 8 bar calls.
    phrase: Stats,
}

/// onnxruntime's figures, or why there are none.
fn onnxruntime_figures(root: &Path, bar_file: &str) -> Result<OrtFigures, String> {
    let python = root.join(PYTHON);
    if !python.exists() {
        return Err(format!("{} not found", python.display()));
    }
    let out = Command::new(&python)
        .current_dir(root.join(TRAIN_DIR))
        .arg("-m")
        .arg(ORT_MODULE)
        .arg(root.join(MODEL_DIR))
        .arg(RUNS.to_string())
        .arg("--bar-file")
        .arg(bar_file)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Vec<f64> = text
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    let us = |x: f64| Duration::from_secs_f64(x / 1e6);
    match v[..] {
        [load_ms, bar_med, bar_min, phrase_med, phrase_min] => Ok(OrtFigures {
            load_ms,
            bar: Stats {
                median: us(bar_med),
                min: us(bar_min),
            },
            phrase: Stats {
                median: us(phrase_med),
                min: us(phrase_min),
            },
        }),
        _ => Err(format!("unexpected output: {text}")),
    }
}

/// Median and minimum of repeated timings. On a shared machine the median carries the load of
/// other processes; the minimum is close to the uncontended cost.
#[derive(Clone, Copy)]
struct Stats {
    /// Median.
    median: Duration,
    /// Fastest run.
    min: Duration,
}

impl Stats {
    fn of(mut v: Vec<Duration>) -> Stats {
        v.sort();
        Stats {
            median: v[v.len() / 2],
            min: v[0],
        }
    }
}

fn exit_with(message: impl std::fmt::Display) -> ! {
    eprintln!("{message}");
    std::process::exit(1)
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let load_avg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "Lofi Loom decoder benchmark (one core). Machine load average: {}",
        load_avg
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );

    // Load + optimise.
    let loads: Vec<Duration> = (0..5)
        .map(|_| {
            let start = Instant::now();
            let model = Model::load_embedded();
            let elapsed = start.elapsed();
            if let Err(e) = model {
                exit_with(format!("the embedded model does not load: {e}"));
            }
            elapsed
        })
        .collect();
    let load = Stats::of(loads);
    // The nucleus graph, loaded on first use.
    let nucleus_loads: Vec<Duration> = (0..5)
        .map(|_| {
            let fresh = Model::load_embedded().unwrap_or_else(|e| exit_with(e));
            let start = Instant::now();
            let loaded = fresh.nucleus_only();
            let elapsed = start.elapsed();
            if let Err(e) = loaded {
                exit_with(format!("the nucleus graph does not load: {e}"));
            }
            elapsed
        })
        .collect();
    let nucleus_load = Stats::of(nucleus_loads);
    let model = Model::embedded().unwrap_or_else(|e| exit_with(e));
    let mut g = Generator::new(&model).unwrap_or_else(|e| exit_with(e));
    let nucleus_model = model.nucleus_only().unwrap_or_else(|e| exit_with(e));
    let mut g_nucleus = Generator::new(&nucleus_model).unwrap_or_else(|e| exit_with(e));
    let z_dim = model.meta().z_dim;

    // Decoding only (draws made outside the timing): `bars` bar calls, plus the mode graph
    // when `mode` is None.
    let time_decode = |g: &mut Generator, bars: usize, mode: Option<Mode>| -> Stats {
        runs(|seed| {
            let d = Draws::new(seed, bars, z_dim);
            let inputs = mid_knobs(&d, bars, mode);
            timed(|| g.decode_with(black_box(&inputs)).ok())
        })
    };
    let bar_call = time_decode(&mut g, 1, Some(Mode::Ionian));
    let bar_and_mode = time_decode(&mut g, 1, None);
    let eight = time_decode(&mut g, MAX_BARS, None);
    let bar_call_nucleus = time_decode(&mut g_nucleus, 1, Some(Mode::Ionian));
    // The batched graph: 8 phrases' tokens per run (the mode graph once per phrase).
    let time_batch = |g: &mut Generator, bars: usize, mode: Option<Mode>| -> Stats {
        runs(|run| {
            let draws: Vec<Draws> = (0..CANDIDATES as u64)
                .map(|i| Draws::new(run * 100 + i, bars, z_dim))
                .collect();
            let inputs: Vec<DecodeInputs> =
                draws.iter().map(|d| mid_knobs(d, bars, mode)).collect();
            timed(|| g.decode_batch_with(black_box(&inputs)).ok())
        })
    };
    let bar_call_k8 = time_batch(&mut g, 1, Some(Mode::Ionian));
    let eight_k8 = time_batch(&mut g, MAX_BARS, None);
    let eight_nucleus = time_decode(&mut g_nucleus, MAX_BARS, None);

    // The worker's job: seed + knobs → progression → rendered phrase.
    let mut phrase = Phrase::new(MAX_BARS as u32);
    let settings = RenderSettings {
        bars: Some(8),
        swing_pct: 20.0,
        humanize_pct: 25.0,
        ..RenderSettings::neutral()
    };
    let mut failures = 0usize;
    let full = runs(|seed| {
        let params = GenerateParams {
            seed,
            bars: 8,
            ..GenerateParams::default()
        };
        let start = Instant::now();
        match g.generate(black_box(&params)) {
            Ok(p) => render_into(&p, None, &settings, &mut phrase),
            Err(_) => failures += 1,
        }
        let elapsed = start.elapsed();
        black_box(phrase.notes().len());
        elapsed
    });
    if failures > 0 {
        println!("  ({failures} generations failed)");
    }

    // Follow: Chords (and Lock chords): the phrase written over forced chords, here the
    // ii–V–I–vi a musician plays, twice over 8 bars in C Ionian.
    let played = [
        (2, Quality::Minor7),
        (5, Quality::Dominant7),
        (1, Quality::Major7),
        (6, Quality::Minor7),
    ];
    let mut locked_chords = [None; MAX_BARS];
    for (i, slot) in locked_chords.iter_mut().enumerate() {
        let (degree, quality) = played[i % played.len()];
        *slot = Some(Some(Chord {
            degree,
            shift: 0,
            quality,
        }));
    }
    let forced = runs(|seed| {
        let params = GenerateParams {
            seed,
            bars: 8,
            key: Some(0),
            mode: Some(Mode::Ionian),
            locked_chords,
            ..GenerateParams::default()
        };
        let start = Instant::now();
        if let Ok(p) = g.generate(black_box(&params)) {
            render_into(&p, None, &settings, &mut phrase);
        }
        let elapsed = start.elapsed();
        black_box(phrase.notes().len());
        elapsed
    });

    // Candidates: 8 phrases, scored, the closest chosen (rendering it as above).
    let candidates = runs(|seed| {
        let params = GenerateParams {
            seed,
            bars: 8,
            ..GenerateParams::default()
        };
        let start = Instant::now();
        if let Ok(c) = g.candidates(black_box(&params)) {
            render_into(&c.chosen().progression, None, &settings, &mut phrase);
        }
        let elapsed = start.elapsed();
        black_box(phrase.notes().len());
        elapsed
    });
    let control = controllability(&mut g);

    let row = |label: &str, s: Stats, target: &str| {
        println!(
            "{label:<44} median {:>8.1} µs   min {:>8.1} µs   {target}",
            us(s.median),
            us(s.min)
        );
    };
    println!(
        "{:<44} median {:>8.2} ms   min {:>8.2} ms   target ≤ 50 ms: {}",
        "load + optimise (plain + mode, checks, probes)",
        load.median.as_secs_f64() * 1e3,
        load.min.as_secs_f64() * 1e3,
        verdict(load.median <= Duration::from_millis(50))
    );
    println!(
        "{:<44} median {:>8.2} ms   min {:>8.2} ms",
        "+ nucleus graph, on first top-p < 1",
        nucleus_load.median.as_secs_f64() * 1e3,
        nucleus_load.min.as_secs_f64() * 1e3,
    );
    row("bar graph, one call (1 bar, mode fixed)", bar_call, "");
    row("nucleus bar graph, one call", bar_call_nucleus, "");
    println!(
        "{:<44} median {:>8.1} µs   min {:>8.1} µs",
        "mode graph, one call (1-bar difference)",
        us(bar_and_mode.median) - us(bar_call.median),
        us(bar_and_mode.min) - us(bar_call.min)
    );
    row("8 bars, tokens (mode graph + 8 bar calls)", eight, "");
    row("8 bars, tokens, nucleus graph", eight_nucleus, "");
    row(
        "batched graph, one call (8 phrases, 1 bar)",
        bar_call_k8,
        "",
    );
    row("8 phrases × 8 bars, tokens (batched)", eight_k8, "");
    println!(
        "{:<44} median {:>8.2}×",
        "plain / nucleus, 8 bars tokens",
        us(eight.median) / us(eight_nucleus.median)
    );
    row(
        "8-bar phrase: seed → tokens → rendered",
        full,
        &format!(
            "target ≤ 1000 µs: {}",
            verdict(full.median <= Duration::from_millis(1))
        ),
    );

    row("8-bar phrase over forced chords (Follow)", forced, "");
    row(
        "8 candidates, scored, closest rendered",
        candidates,
        &format!(
            "target ≤ 2000 µs: {}",
            verdict(candidates.median <= Duration::from_millis(2))
        ),
    );
    println!();
    println!("controllability, 5 × 5 knob grid × 40 seeds, 8 bars (descriptors measured in Rust):");
    println!(
        "  {:<28} {:>9} {:>9} {:>12} {:>12} {:>11} {:>9}",
        "", "ρ energy", "ρ valence", "|E − knob|", "|V − knob|", "cross-talk", "distinct"
    );
    for (label, c) in [
        ("seed's own phrase (K = 1)", control.0),
        ("closest of 8 (K = 8)", control.1),
    ] {
        println!(
            "  {label:<28} {:>9.3} {:>9.3} {:>12.3} {:>12.3} {:>11.3} {:>6}/100",
            c.rho_energy,
            c.rho_valence,
            c.mean_abs_energy,
            c.mean_abs_valence,
            c.cross_talk,
            c.distinct
        );
    }
    println!(
        "  targets (K = 8): ρ ≥ 0.97 each, mean |knob − descriptor| ≤ 0.08, |cross-talk| ≤ 0.1, distinct ≥ 90"
    );

    for (file, bar_call, eight) in [
        (BAR_PLAIN_GRAPH_FILE, bar_call, eight),
        (BAR_CANDIDATES_GRAPH_FILE, bar_call_k8, eight_k8),
        (BAR_GRAPH_FILE, bar_call_nucleus, eight_nucleus),
    ] {
        match onnxruntime_figures(root, file) {
            Ok(ort) => {
                println!("onnxruntime, {file}:");
                println!(
                    "{:<44} median {:>8.2} ms",
                    "  onnxruntime load (2 sessions)", ort.load_ms
                );
                row("  onnxruntime bar graph, one call (Python)", ort.bar, "");
                row("  onnxruntime 8 bars, tokens (same loop)", ort.phrase, "");
                let ratio = us(eight.median) / us(ort.phrase.median);
                println!(
                    "{:<44} median {:>8.2}×    min {:>8.2}×    target ≤ 1.0×: {}",
                    "  ratio tract / onnxruntime, 8 bars tokens",
                    ratio,
                    us(eight.min) / us(ort.phrase.min),
                    verdict(ratio <= 1.0)
                );
                println!(
                    "{:<44} median {:>8.2}×    min {:>8.2}×",
                    "  ratio tract / onnxruntime, one bar call",
                    us(bar_call.median) / us(ort.bar.median),
                    us(bar_call.min) / us(ort.bar.min)
                );
            }
            Err(why) => println!("onnxruntime comparison skipped: {why}"),
        }
    }
}

/// [`RUNS`] timings of `run` (called with 0, 1, …) after 20 untimed warm-up calls.
fn runs(mut run: impl FnMut(u64) -> Duration) -> Stats {
    for i in 0..20 {
        run(i);
    }
    Stats::of((20..RUNS as u64 + 20).map(run).collect())
}

/// How long `f` takes (its result kept from the optimiser).
fn timed<T>(f: impl FnOnce() -> T) -> Duration {
    let start = Instant::now();
    black_box(f());
    start.elapsed()
}

/// The decoder's inputs for `d` at mid knobs, temperature and top-p 1, nothing locked: the
/// mode fixed, or sampled from `d`'s uniform.
fn mid_knobs(d: &Draws, bars: usize, mode: Option<Mode>) -> DecodeInputs<'_> {
    DecodeInputs {
        z: &d.z,
        energy: 0.5,
        valence: 0.5,
        temperature: 1.0,
        mode: mode.map_or(ModeInput::Sample(d.mode_uniform), ModeInput::Fixed),
        bar_uniforms: &d.bar_uniforms[..bars],
        forced_chords: &[],
        top_p: 1.0,
        rhythm: &[],
    }
}

/// Controllability figures of one way of choosing a phrase.
#[derive(Clone, Copy)]
struct Control {
    /// Spearman ρ of the Energy knob against the measured energy.
    rho_energy: f64,
    /// The same for Valence.
    rho_valence: f64,
    /// Mean |energy − Energy knob|.
    mean_abs_energy: f64,
    /// Mean |valence − Valence knob|.
    mean_abs_valence: f64,
    /// The larger |ρ| of a knob against the other knob's descriptor.
    cross_talk: f64,
    /// Distinct progressions (chords and melody) among 100 seeds at the default knobs.
    distinct: usize,
}

/// The controllability figures of the seed's own phrase and of the closest candidate.
fn controllability(g: &mut Generator) -> (Control, Control) {
    let grid = [0.1f32, 0.3, 0.5, 0.7, 0.9];
    let mut rows: [Vec<(f64, f64, f64, f64)>; 2] = [Vec::new(), Vec::new()];
    for &energy in &grid {
        for &valence in &grid {
            for seed in 0..40u64 {
                let params = GenerateParams {
                    seed: 10_000 + seed,
                    bars: 8,
                    energy,
                    valence,
                    ..GenerateParams::default()
                };
                let c = g.candidates(&params).unwrap_or_else(|e| exit_with(e));
                for (k, cand) in [&c.list[0], c.chosen()].into_iter().enumerate() {
                    rows[k].push((
                        f64::from(energy),
                        f64::from(valence),
                        cand.energy,
                        cand.valence,
                    ));
                }
            }
        }
    }
    let mut distinct = [
        std::collections::HashSet::new(),
        std::collections::HashSet::new(),
    ];
    for seed in 0..100u64 {
        let params = GenerateParams {
            seed: 20_000 + seed,
            bars: 8,
            ..GenerateParams::default()
        };
        let c = g.candidates(&params).unwrap_or_else(|e| exit_with(e));
        for (k, cand) in [&c.list[0], c.chosen()].into_iter().enumerate() {
            distinct[k].insert(format!("{:?}", cand.generated.decoded.tokens()));
        }
    }
    let figures = |k: usize| {
        let r = &rows[k];
        let col = |f: fn(&(f64, f64, f64, f64)) -> f64| r.iter().map(f).collect::<Vec<f64>>();
        let (ke, kv, de, dv) = (col(|x| x.0), col(|x| x.1), col(|x| x.2), col(|x| x.3));
        let n = r.len() as f64;
        Control {
            rho_energy: spearman(&ke, &de),
            rho_valence: spearman(&kv, &dv),
            mean_abs_energy: r.iter().map(|x| (x.2 - x.0).abs()).sum::<f64>() / n,
            mean_abs_valence: r.iter().map(|x| (x.3 - x.1).abs()).sum::<f64>() / n,
            cross_talk: spearman(&ke, &dv).abs().max(spearman(&kv, &de).abs()),
            distinct: distinct[k].len(),
        }
    };
    (figures(0), figures(1))
}
