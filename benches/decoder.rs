//! `cargo bench --bench decoder`: what the neural decoder costs on one core, printed next to
//! the targets of issue 3 (8-bar phrase ≤ 1 ms and ≤ 0.25× onnxruntime; load ≤ 50 ms). Not a
//! test: figures vary with the machine and its load, and nothing is asserted.
//!
//! * model load + optimise (both graphs, the interface checks and the vocabulary probe);
//! * one bar-graph call (a 1-bar phrase with the mode fixed), and the mode graph by difference;
//! * an 8-bar phrase: draws → mode graph → 8 bar calls → tokens → progression → rendered into
//!   a pooled phrase, as the worker does it;
//! * the same loop in onnxruntime (Python, one thread) on the same ONNX files, when
//!   `models/train/.venv/bin/python` with onnxruntime exists; then the ratio.

use lofi_loom::decoder::{DecodeInputs, Draws, GenerateParams, Generator, ModeInput, Model};
use lofi_loom::phrase::Phrase;
use lofi_loom::progression::{Mode, MAX_BARS};
use lofi_loom::render::{render_into, RenderSettings};
use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// The folder holding the ONNX files the embedded model is built from (for onnxruntime); keep
/// it the same as `embedded_model_dir!` in `src/decoder.rs`.
const MODEL_DIR: &str = "models";
/// The training environment's Python, with onnxruntime.
const PYTHON: &str = "models/train/.venv/bin/python";
/// Phrases timed per figure.
const RUNS: usize = 300;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

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

/// The same loop in onnxruntime: load, then per phrase the mode graph and 8 bar calls with
/// fresh inputs. Prints `load_ms bar_us phrase_us` (medians).
const ORT_SNIPPET: &str = r#"
import sys, time
import numpy as np
import onnxruntime as ort
d, runs = sys.argv[1], int(sys.argv[2])
so = ort.SessionOptions(); so.intra_op_num_threads = 1; so.inter_op_num_threads = 1
loads = []
for _ in range(5):
    t = time.perf_counter()
    bar = ort.InferenceSession(d + "/lofi_loom_bar.onnx", so, providers=["CPUExecutionProvider"])
    mode = ort.InferenceSession(d + "/lofi_loom_mode.onnx", so, providers=["CPUExecutionProvider"])
    loads.append(time.perf_counter() - t)
hidden = bar.get_inputs()[5].shape[1]
zdim = bar.get_inputs()[0].shape[1]
rng = np.random.default_rng(0)
f = lambda x: np.array([x], np.float32)
i = lambda x: np.array([x], np.int64)
def phrase(n_bars, sample_mode):
    z = rng.standard_normal((1, zdim)).astype(np.float32)
    e, v, t = f(0.5), f(0.5), f(1.0)
    m = 0
    if sample_mode:
        out = mode.run(None, {"z": z, "energy": e, "valence": v, "temperature": t,
                              "uniform": rng.random((1, 1), dtype=np.float32)})
        m = int(out[0][0])
    state = np.zeros((1, hidden), np.float32)
    toks = []
    for b in range(n_bars):
        tk, state = bar.run(None, {"z": z, "energy": e, "valence": v, "mode": i(m),
                                   "bar_index": i(b), "state": state,
                                   "uniforms": rng.random((1, 9), dtype=np.float32),
                                   "temperature": t, "forced_chord": i(-1)})
        toks.append(tk)
    return toks
def timed(n_bars, sample_mode):
    for _ in range(20): phrase(n_bars, sample_mode)
    ts = []
    for _ in range(runs):
        t = time.perf_counter(); phrase(n_bars, sample_mode); ts.append(time.perf_counter() - t)
    return float(np.median(ts))
print(np.median(loads) * 1e3, timed(1, False) * 1e6, timed(8, True) * 1e6)
"#;

/// (load ms, bar µs, 8-bar phrase µs) from onnxruntime, or why not.
fn onnxruntime_figures(root: &Path) -> Result<(f64, f64, f64), String> {
    let python = root.join(PYTHON);
    if !python.exists() {
        return Err(format!("{} not found", python.display()));
    }
    let out = Command::new(&python)
        .arg("-c")
        .arg(ORT_SNIPPET)
        .arg(root.join(MODEL_DIR))
        .arg(RUNS.to_string())
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
    match v[..] {
        [load, bar, phrase] => Ok((load, bar, phrase)),
        _ => Err(format!("unexpected output: {text}")),
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    println!("Lofi Loom decoder benchmark (one core; medians)");

    // Load + optimise.
    let loads: Vec<Duration> = (0..5)
        .map(|_| {
            let start = Instant::now();
            let model = Model::load_embedded();
            let elapsed = start.elapsed();
            if let Err(e) = model {
                eprintln!("the embedded model does not load: {e}");
                std::process::exit(1);
            }
            elapsed
        })
        .collect();
    let load = median(loads);
    let model = match Model::embedded() {
        Ok(m) => m,
        Err(e) => {
            eprintln!("the embedded model does not load: {e}");
            std::process::exit(1);
        }
    };
    let mut g = match Generator::new(&model) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let z_dim = model.meta().z_dim;

    // One bar call: a 1-bar phrase with the mode fixed (no mode graph).
    let time_decode = |g: &mut Generator, bars: usize, mode: Option<Mode>| -> Duration {
        let times: Vec<Duration> = (0..RUNS as u64 + 20)
            .map(|seed| {
                let d = Draws::new(seed, bars, z_dim);
                let inputs = DecodeInputs {
                    z: &d.z,
                    energy: 0.5,
                    valence: 0.5,
                    temperature: 1.0,
                    mode: mode.map_or(ModeInput::Sample(d.mode_uniform), ModeInput::Fixed),
                    bar_uniforms: &d.bar_uniforms[..bars],
                    forced_chords: &[],
                };
                let start = Instant::now();
                let out = g.decode_with(black_box(&inputs));
                let elapsed = start.elapsed();
                black_box(out.ok());
                elapsed
            })
            .skip(20)
            .collect();
        median(times)
    };
    let bar_call = time_decode(&mut g, 1, Some(Mode::Ionian));
    let eight_fixed = time_decode(&mut g, MAX_BARS, Some(Mode::Ionian));
    let eight_sampled = time_decode(&mut g, MAX_BARS, None);

    // The worker's job: seed + knobs → progression → rendered phrase.
    let mut phrase = Phrase::new(MAX_BARS as u32);
    let settings = RenderSettings {
        bars: Some(8),
        swing_pct: 20.0,
        humanize_pct: 25.0,
        ..RenderSettings::default()
    };
    let mut failures = 0usize;
    let times: Vec<Duration> = (0..RUNS as u64 + 20)
        .map(|seed| {
            let params = GenerateParams {
                seed,
                bars: 8,
                ..GenerateParams::default()
            };
            let start = Instant::now();
            match g.generate(black_box(&params)) {
                Ok(p) => render_into(&p, &settings, &mut phrase),
                Err(_) => failures += 1,
            }
            let elapsed = start.elapsed();
            black_box(phrase.notes().len());
            elapsed
        })
        .skip(20)
        .collect();
    let full = median(times);
    if failures > 0 {
        println!("  ({failures} generations failed)");
    }

    println!(
        "load + optimise (2 graphs, checks, probe)   {:>9.2} ms   target ≤ 50 ms: {}",
        load.as_secs_f64() * 1e3,
        verdict(load <= Duration::from_millis(50))
    );
    println!(
        "bar graph, one call (1 bar, mode fixed)    {:>9.1} µs",
        us(bar_call)
    );
    println!(
        "mode graph, one call (by difference)       {:>9.1} µs",
        us(eight_sampled) - us(eight_fixed)
    );
    println!(
        "8 bars tokens (mode graph + 8 bar calls)   {:>9.1} µs",
        us(eight_sampled)
    );
    println!(
        "8-bar phrase: seed → tokens → rendered     {:>9.1} µs   target ≤ 1000 µs: {}",
        us(full),
        verdict(full <= Duration::from_millis(1))
    );

    match onnxruntime_figures(root) {
        Ok((load_ms, bar_us, phrase_us)) => {
            let ratio = us(eight_sampled) / phrase_us;
            println!("onnxruntime load (2 sessions)              {load_ms:>9.2} ms");
            println!("onnxruntime bar graph, one call            {bar_us:>9.1} µs (Python loop)");
            println!(
                "onnxruntime 8 bars tokens (same loop)      {phrase_us:>9.1} µs (Python loop)"
            );
            println!(
                "ratio tract / onnxruntime, 8 bars tokens   {ratio:>9.2}×    target ≤ 0.25×: {}",
                verdict(ratio <= 0.25)
            );
            println!(
                "ratio tract / onnxruntime, one bar call    {:>9.2}×",
                us(bar_call) / bar_us
            );
        }
        Err(why) => println!("onnxruntime comparison skipped: {why}"),
    }
}
