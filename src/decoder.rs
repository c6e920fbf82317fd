//! The neural decoder: loads Lofi Loom's two ONNX graphs with tract, checks their interface,
//! draws the seeded random numbers, runs the graphs bar by bar and turns the tokens into a
//! [`Progression`]. The only module that imports tract (pinned in `Cargo.toml`).
//!
//! Ownership, by thread:
//! * [`Model`] — read-only after loading, `Send + Sync`, shared in an `Arc` by every plugin
//!   instance (the embedded one is loaded and optimised once per process, off the audio thread:
//!   by the worker thread when it builds its [`NeuralSource`]).
//! * [`Generator`] — per-generation state owned by one worker thread: tract's run states
//!   (spawned once), reusable input tensors and the random draws.
//! * [`NeuralSource`] — the [`PhraseSource`] the worker asks for progressions.
//!
//! The graphs' exact interface is in `models/MODEL.md` ("ONNX interface"): the mode graph picks
//! a mode from (z, energy, valence); the bar graph writes one whole bar (chord + 8 melody
//! steps) per call, sampling inside the graph by inverse CDF against uniforms drawn here, so
//! sampling stays seeded and reproducible whatever runtime executes the graph.
//!
//! Random draws for a seed ([`Draws`]), in this order, from one ChaCha8 stream
//! (`ChaCha8Rng::seed_from_u64(seed)`, stream [`DECODER_STREAM`]):
//! 1. z: `z_dim` (16) standard normals by Box–Muller, pairwise from two f64 uniforms u₁, u₂:
//!    r = √(−2 ln(1 − u₁)), z₂ᵢ = r cos 2πu₂, z₂ᵢ₊₁ = r sin 2πu₂ (computed in f64, rounded to f32);
//! 2. the key: ⌊12 u⌋ from one f64 uniform — drawn always, used only when the key is Auto;
//! 3. the mode uniform (one f32 uniform) — drawn always, the mode graph runs only when the mode
//!    is Auto;
//! 4. for each bar, 9 f32 uniforms: `[0]` the chord (drawn even when the chord is locked),
//!    `[1..=8]` the melody steps;
//! 5. only if the phrase came out degenerate (see [`degenerate`]): another 9 uniforms per bar,
//!    continuing the same stream, and the phrase is decoded again (z, key and mode kept), at
//!    most [`MAX_REDRAWS`] times; the last result is kept.
//!
//! An f64 uniform is the top 53 bits of one `next_u64()` divided by 2⁵³; an f32 uniform is
//! the top 24 bits divided by 2²⁴ (exact in f32, always < 1). No float sampler of `rand` is
//! used, so the stream cannot change with a `rand` upgrade. Because every draw is made whatever
//! the knobs, the same seed with other knobs reuses the same z and uniforms: turning a knob
//! varies the phrase coherently instead of jumping to an unrelated one.

use crate::params::Knobs;
use crate::progression::{tokens, Bar, Chord, Mode, Progression, Step, MAX_BARS, STEPS_PER_CHORD};
use crate::state::Session;
use crate::worker::{PhraseSource, Request};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::OnceLock;
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::infer::Factoid;

/// Folder (relative to this file) the embedded model is read from at build time. One line to
/// change when the model moves; the file names are the constants below.
macro_rules! embedded_model_dir {
    () => {
        "../models/"
    };
}

/// File name of the bar graph in a model folder.
pub const BAR_GRAPH_FILE: &str = "lofi_loom_bar.onnx";
/// File name of the mode graph in a model folder.
pub const MODE_GRAPH_FILE: &str = "lofi_loom_mode.onnx";
/// File name of the sizes a model folder declares.
pub const MODEL_META_FILE: &str = "lofi_loom_model.json";

/// The embedded bar graph.
const EMBEDDED_BAR: &[u8] = include_bytes!(concat!(embedded_model_dir!(), "lofi_loom_bar.onnx"));
/// The embedded mode graph.
const EMBEDDED_MODE: &[u8] = include_bytes!(concat!(embedded_model_dir!(), "lofi_loom_mode.onnx"));
/// The embedded model's declared sizes.
const EMBEDDED_META: &str = include_str!(concat!(embedded_model_dir!(), "lofi_loom_model.json"));

/// Tokens per bar: the chord, then the melody steps.
pub const TOKENS_PER_BAR: usize = 1 + STEPS_PER_CHORD;
/// Modes the mode graph chooses from ([`Mode::ALL`]).
pub const MODE_COUNT: usize = 7;
/// Lowest temperature passed to the graphs (MODEL.md: keep ≥ 0.05; lower is nearly argmax).
pub const MIN_TEMPERATURE: f32 = 0.05;
/// How often a degenerate phrase is decoded again with fresh uniforms.
pub const MAX_REDRAWS: usize = 3;

/// Rhythm constraint of one melody step, as the bar graph's `rhythm` input takes it.
pub mod rhythm {
    /// Any token.
    pub const FREE: i8 = -1;
    /// Must be a rest.
    pub const REST: i8 = 0;
    /// Must hold the previous note.
    pub const HOLD: i8 = 1;
    /// Must be a new note (any pitch).
    pub const NOTE: i8 = 2;
}

/// One bar's rhythm constraints, one per melody step.
pub type RhythmRow = [i8; STEPS_PER_CHORD];

/// The rhythm of a bar's melody, as constraints that keep it: a `Hold` that follows a rest
/// (which plays as a rest) becomes a rest.
pub fn rhythm_of(bar: &Bar, previous_sounds: bool) -> RhythmRow {
    let mut row = [rhythm::FREE; STEPS_PER_CHORD];
    let mut sounding = previous_sounds;
    for (slot, step) in row.iter_mut().zip(&bar.melody) {
        *slot = match step {
            Step::Note(_) => rhythm::NOTE,
            Step::Hold if sounding => rhythm::HOLD,
            Step::Hold | Step::Rest => rhythm::REST,
        };
        sounding = *slot != rhythm::REST;
    }
    row
}

/// Why a phrase's tokens are degenerate — no melody note, one repeated pitch, or (with two or
/// more bars) one chord throughout — or None. `chords_free`/`rhythm_free` say which of these
/// the caller left to the model: what the user locked is never called degenerate.
pub fn degenerate(
    rows: &[[u16; TOKENS_PER_BAR]],
    chords_free: bool,
    rhythm_free: bool,
) -> Option<&'static str> {
    let pitches = || {
        rows.iter()
            .flat_map(|row| row[1..].iter())
            .filter(|t| matches!(tokens::step_from_token(**t), Some(Step::Note(_))))
    };
    let first = pitches().next();
    let onsets = pitches().count();
    match first {
        None if rhythm_free => return Some("all rests"),
        // A locked rhythm with a single onset cannot be anything but one note: redrawing it
        // would only waste time.
        Some(first) if (rhythm_free || onsets >= 2) && pitches().all(|p| p == first) => {
            return Some("one repeated note")
        }
        _ => {}
    }
    let one_chord = rows.len() >= 2 && rows.iter().all(|row| row[0] == rows[0][0]);
    (chords_free && one_chord).then_some("one repeated chord")
}
/// ChaCha8 stream of the decoder's draws; the humanizer in `render.rs` uses streams 0–2 of the
/// same seed, so a separate stream keeps the two uncorrelated.
pub const DECODER_STREAM: u64 = 0x4C4F_4649; // "LOFI"
/// Largest latent size a custom model may declare (a sanity bound, the embedded one is 16).
const MAX_Z_DIM: usize = 1024;
/// Largest recurrent state a custom model may declare (the embedded one is 256).
const MAX_HIDDEN: usize = 1 << 16;
/// A uniform beyond 1 makes inverse-CDF sampling pick the last token of the vocabulary: the
/// load-time probe uses it to read the graph's real vocabulary sizes.
const PROBE_UNIFORM: f32 = 2.0;

/// Why a model could not be loaded or run: a plain message for the user naming what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelError(pub String);

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ModelError {}

fn err<T>(msg: impl Into<String>) -> Result<T, ModelError> {
    Err(ModelError(msg.into()))
}

/// `lofi_loom_model.json`: the sizes a model folder declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct ModelMeta {
    /// Length of the latent z.
    pub z_dim: usize,
    /// Length of the recurrent state passed between bar calls.
    pub hidden: usize,
    /// Chord vocabulary size; must be [`tokens::CHORD_VOCAB`].
    pub chord_vocab: usize,
    /// Melody vocabulary size; must be [`tokens::MELODY_VOCAB`].
    pub melody_vocab: usize,
    /// Tokens per bar; must be [`TOKENS_PER_BAR`].
    pub tokens_per_bar: usize,
    /// Bars the graph has position embeddings for; at least [`MAX_BARS`].
    pub max_bars: usize,
}

impl ModelMeta {
    fn parse(text: &str) -> Result<ModelMeta, ModelError> {
        let meta: ModelMeta = serde_json::from_str(text)
            .map_err(|e| ModelError(format!("{MODEL_META_FILE} is not valid: {e}")))?;
        let check = |field: &str, got: usize, want: usize| -> Result<(), ModelError> {
            if got != want {
                return err(format!(
                    "{MODEL_META_FILE}: `{field}` is {got}, Lofi Loom's vocabulary needs {want}"
                ));
            }
            Ok(())
        };
        check("chord_vocab", meta.chord_vocab, tokens::CHORD_VOCAB)?;
        check("melody_vocab", meta.melody_vocab, tokens::MELODY_VOCAB)?;
        check("tokens_per_bar", meta.tokens_per_bar, TOKENS_PER_BAR)?;
        if meta.max_bars < MAX_BARS {
            return err(format!(
                "{MODEL_META_FILE}: `max_bars` is {}, at least {MAX_BARS} are needed",
                meta.max_bars
            ));
        }
        if !(1..=MAX_Z_DIM).contains(&meta.z_dim) {
            return err(format!(
                "{MODEL_META_FILE}: `z_dim` is {}, expected 1–{MAX_Z_DIM}",
                meta.z_dim
            ));
        }
        if !(1..=MAX_HIDDEN).contains(&meta.hidden) {
            return err(format!(
                "{MODEL_META_FILE}: `hidden` is {}, expected 1–{MAX_HIDDEN}",
                meta.hidden
            ));
        }
        Ok(meta)
    }
}

/// One input or output a graph must have.
struct Port {
    /// Its ONNX name.
    name: &'static str,
    /// Element type.
    datum: DatumType,
    /// Exact shape (batch 1).
    shape: Vec<usize>,
}

fn port(name: &'static str, datum: DatumType, shape: &[usize]) -> Port {
    Port {
        name,
        datum,
        shape: shape.to_vec(),
    }
}

/// A graph's expected interface.
struct Interface {
    /// File name, for messages.
    file: &'static str,
    /// Inputs, in order.
    inputs: Vec<Port>,
    /// Outputs, in order.
    outputs: Vec<Port>,
}

impl Interface {
    fn bar(meta: &ModelMeta) -> Interface {
        let (f, i) = (f32::datum_type(), i64::datum_type());
        Interface {
            file: BAR_GRAPH_FILE,
            inputs: vec![
                port("z", f, &[1, meta.z_dim]),
                port("energy", f, &[1]),
                port("valence", f, &[1]),
                port("mode", i, &[1]),
                port("bar_index", i, &[1]),
                port("state", f, &[1, meta.hidden]),
                port("uniforms", f, &[1, TOKENS_PER_BAR]),
                port("temperature", f, &[1]),
                port("forced_chord", i, &[1]),
                port("top_p", f, &[1]),
                port("rhythm", i, &[1, STEPS_PER_CHORD]),
            ],
            outputs: vec![
                port("tokens", i, &[1, TOKENS_PER_BAR]),
                port("state_out", f, &[1, meta.hidden]),
            ],
        }
    }

    fn mode(meta: &ModelMeta) -> Interface {
        let (f, i) = (f32::datum_type(), i64::datum_type());
        Interface {
            file: MODE_GRAPH_FILE,
            inputs: vec![
                port("z", f, &[1, meta.z_dim]),
                port("energy", f, &[1]),
                port("valence", f, &[1]),
                port("temperature", f, &[1]),
                port("uniform", f, &[1, 1]),
            ],
            outputs: vec![
                port("mode", i, &[1]),
                port("mode_probs", f, &[1, MODE_COUNT]),
            ],
        }
    }
}

fn names(ports: &[Port]) -> String {
    ports.iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
}

/// Runs `f` and turns a panic inside tract into an error, so no model file can crash the host.
fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T, ModelError>) -> Result<T, ModelError> {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|_| err(format!("{what}: tract stopped with an internal error")))
}

/// Reads, checks and optimises one graph.
fn load_graph(
    onnx: &tract_onnx::Onnx,
    bytes: &[u8],
    iface: &Interface,
) -> Result<Arc<TypedRunnableModel>, ModelError> {
    let file = iface.file;
    guarded(file, || {
        let mut reader = bytes;
        let mut model = onnx
            .model_for_read(&mut reader)
            .map_err(|e| ModelError(format!("{file} is not a readable ONNX model: {e:#}")))?;
        check_inputs(&mut model, iface)?;
        check_output_names(&model, iface)?;
        let typed = model
            .into_optimized()
            .map_err(|e| ModelError(format!("{file} could not be prepared by tract: {e:#}")))?;
        check_output_facts(&typed, iface)?;
        typed
            .into_runnable()
            .map_err(|e| ModelError(format!("{file} could not be made runnable: {e:#}")))
    })
}

/// Input names in order, declared types and shapes; then pins every input to its exact fact
/// (a graph exported with a symbolic batch then runs with batch 1).
fn check_inputs(model: &mut InferenceModel, iface: &Interface) -> Result<(), ModelError> {
    let file = iface.file;
    let outlets = model
        .input_outlets()
        .map_err(|e| ModelError(format!("{file}: {e}")))?;
    let got: Vec<String> = outlets
        .iter()
        .map(|o| model.node(o.node).name.clone())
        .collect();
    for (ix, (name, want)) in got.iter().zip(&iface.inputs).enumerate() {
        if name != want.name {
            return err(format!(
                "{file}: input {ix} is named `{name}`, expected `{}` (the graph's inputs are: {}; \
                 Lofi Loom needs: {})",
                want.name,
                got.join(", "),
                names(&iface.inputs)
            ));
        }
    }
    if got.len() != iface.inputs.len() {
        return err(format!(
            "{file} has {} inputs ({}), expected {} ({})",
            got.len(),
            got.join(", "),
            iface.inputs.len(),
            names(&iface.inputs)
        ));
    }
    for (ix, want) in iface.inputs.iter().enumerate() {
        let fact = model
            .input_fact(ix)
            .map_err(|e| ModelError(format!("{file}: {e}")))?;
        if let Some(dt) = fact.datum_type.concretize() {
            if dt != want.datum {
                return err(format!(
                    "{file}: input `{}` is {dt:?}, expected {:?}",
                    want.name, want.datum
                ));
            }
        }
        if let Some(dims) = fact.shape.concretize() {
            let matches = dims.len() == want.shape.len()
                && dims
                    .iter()
                    .zip(&want.shape)
                    .all(|(d, w)| d.to_i64().map_or(true, |d| d == *w as i64));
            if !matches {
                let dims: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
                return err(format!(
                    "{file}: input `{}` has shape [{}], expected {:?}",
                    want.name,
                    dims.join(", "),
                    want.shape
                ));
            }
        }
        model
            .set_input_fact(ix, InferenceFact::dt_shape(want.datum, want.shape.clone()))
            .map_err(|e| ModelError(format!("{file}: input `{}`: {e:#}", want.name)))?;
    }
    Ok(())
}

fn check_output_names(model: &InferenceModel, iface: &Interface) -> Result<(), ModelError> {
    let file = iface.file;
    let outlets = model
        .output_outlets()
        .map_err(|e| ModelError(format!("{file}: {e}")))?;
    let got: Vec<String> = outlets
        .iter()
        .map(|o| {
            model
                .outlet_label(*o)
                .map(str::to_owned)
                .unwrap_or_else(|| model.node(o.node).name.clone())
        })
        .collect();
    let want: Vec<&str> = iface.outputs.iter().map(|p| p.name).collect();
    if got != want {
        return err(format!(
            "{file} has outputs ({}), expected ({})",
            got.join(", "),
            want.join(", ")
        ));
    }
    Ok(())
}

fn check_output_facts(model: &TypedModel, iface: &Interface) -> Result<(), ModelError> {
    let file = iface.file;
    for (ix, want) in iface.outputs.iter().enumerate() {
        let fact = model
            .output_fact(ix)
            .map_err(|e| ModelError(format!("{file}: {e}")))?;
        if fact.datum_type != want.datum {
            return err(format!(
                "{file}: output `{}` is {:?}, expected {:?}",
                want.name, fact.datum_type, want.datum
            ));
        }
        if fact.shape.as_concrete() != Some(&want.shape[..]) {
            return err(format!(
                "{file}: output `{}` has shape {:?}, expected {:?}",
                want.name, fact.shape, want.shape
            ));
        }
    }
    Ok(())
}

/// The decoder's two graphs, checked and optimised. Read-only: share it in an `Arc` between
/// threads and instances; each worker makes its own [`Generator`] from it.
#[derive(Debug)]
pub struct Model {
    /// The bar graph, ready to run.
    bar: Arc<TypedRunnableModel>,
    /// The mode graph, ready to run.
    mode: Arc<TypedRunnableModel>,
    /// The sizes the folder declared (and the graphs were checked against).
    meta: ModelMeta,
}

// The model is shared across threads and a generator moves to the worker thread; fail the
// build if a tract upgrade breaks either.
const _: fn() = || {
    fn shared<T: Send + Sync>() {}
    shared::<Model>();
    fn owned<T: Send>() {}
    owned::<Generator>();
};

impl Model {
    /// The model built into the plugin, loaded and optimised on first use and then shared by
    /// every caller in the process. Slow the first time (tens of milliseconds): call it off
    /// the audio thread.
    pub fn embedded() -> Result<Arc<Model>, ModelError> {
        static EMBEDDED: OnceLock<Result<Arc<Model>, ModelError>> = OnceLock::new();
        EMBEDDED
            .get_or_init(|| Model::load_embedded().map(Arc::new))
            .clone()
    }

    /// Loads and optimises a fresh copy of the embedded model (no cache: [`Model::embedded`]
    /// is what the plugin uses; this is for measuring the load).
    pub fn load_embedded() -> Result<Model, ModelError> {
        Model::from_bytes(EMBEDDED_BAR, EMBEDDED_MODE, EMBEDDED_META)
            .map_err(|e| ModelError(format!("the built-in model is broken: {e}")))
    }

    /// Loads a user's model folder holding [`BAR_GRAPH_FILE`], [`MODE_GRAPH_FILE`] and
    /// [`MODEL_META_FILE`], with the same checks as the embedded model. Never panics: a missing
    /// file, a file that is not ONNX or a graph with another interface is an error naming it.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Model, ModelError> {
        let dir = dir.as_ref();
        let read = |name: &str| -> Result<Vec<u8>, ModelError> {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    ModelError(format!("the model folder {} has no {name}", dir.display()))
                } else {
                    ModelError(format!("cannot read {}: {e}", path.display()))
                }
            })
        };
        let meta = read(MODEL_META_FILE)?;
        let meta = String::from_utf8(meta)
            .map_err(|_| ModelError(format!("{MODEL_META_FILE} is not text")))?;
        let bar = read(BAR_GRAPH_FILE)?;
        let mode = read(MODE_GRAPH_FILE)?;
        Model::from_bytes(&bar, &mode, &meta)
    }

    /// A user's model folder if one is given and valid, else the embedded model. The error
    /// says why the user's model was refused (show it; generation goes on with the built-in
    /// one). Fails only if the embedded model itself cannot load.
    pub fn custom_or_embedded(
        dir: Option<&Path>,
    ) -> Result<(Arc<Model>, Option<ModelError>), ModelError> {
        match dir.map(Model::from_dir) {
            Some(Ok(model)) => Ok((Arc::new(model), None)),
            Some(Err(e)) => Ok((Model::embedded()?, Some(e))),
            None => Ok((Model::embedded()?, None)),
        }
    }

    /// Loads a model from the bytes of its two graphs and the text of its
    /// `lofi_loom_model.json`; checks names, types, shapes and (by running each graph once)
    /// the vocabulary sizes.
    pub fn from_bytes(bar: &[u8], mode: &[u8], meta_json: &str) -> Result<Model, ModelError> {
        let meta = ModelMeta::parse(meta_json)?;
        let onnx = tract_onnx::onnx();
        let model = Model {
            bar: load_graph(&onnx, bar, &Interface::bar(&meta))?,
            mode: load_graph(&onnx, mode, &Interface::mode(&meta))?,
            meta,
        };
        model.probe()?;
        Ok(model)
    }

    /// The sizes this model was checked against.
    pub fn meta(&self) -> &ModelMeta {
        &self.meta
    }

    /// Runs both graphs once with uniforms beyond 1, which select the last token of each
    /// vocabulary: the graph's own vocabularies must end where Lofi Loom's do. The bar index
    /// is the last one, so the graph must also know all [`MAX_BARS`] positions.
    fn probe(&self) -> Result<(), ModelError> {
        let mut g = Runner::new(self)?;
        let z = vec![0.0f32; self.meta.z_dim];
        let (mode, _) = g.run_mode(&z, 0.5, 0.5, 1.0, PROBE_UNIFORM)?;
        if mode != MODE_COUNT - 1 {
            return err(format!(
                "{MODE_GRAPH_FILE} does not choose among {MODE_COUNT} modes (probe gave {mode})"
            ));
        }
        g.set_phrase_inputs(&z, 0.5, 0.5, 0, 1.0, 1.0)?;
        let tokens = g.run_bar(
            MAX_BARS - 1,
            &[PROBE_UNIFORM; TOKENS_PER_BAR],
            None,
            &[rhythm::FREE; STEPS_PER_CHORD],
            true,
        )?;
        if tokens[0] as usize != tokens::CHORD_VOCAB - 1 {
            return err(format!(
                "{BAR_GRAPH_FILE}: the chord vocabulary has {} tokens, Lofi Loom's has {}",
                tokens[0] as usize + 1,
                tokens::CHORD_VOCAB
            ));
        }
        if let Some(t) = tokens[1..]
            .iter()
            .find(|t| **t as usize != tokens::MELODY_VOCAB - 1)
        {
            return err(format!(
                "{BAR_GRAPH_FILE}: the melody vocabulary has {} tokens, Lofi Loom's has {}",
                *t as usize + 1,
                tokens::MELODY_VOCAB
            ));
        }
        Ok(())
    }
}

/// The mode of a phrase: fixed by the user, or sampled by the mode graph.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ModeInput {
    /// Use this mode (the mode graph does not run).
    Fixed(Mode),
    /// Run the mode graph with this uniform in [0, 1).
    Sample(f32),
}

/// Every input of one phrase, with the random numbers already drawn: what the parity fixture
/// feeds and what [`Generator::generate`] builds from a seed.
#[derive(Debug, Clone, Copy)]
pub struct DecodeInputs<'a> {
    /// The latent, [`ModelMeta::z_dim`] values.
    pub z: &'a [f32],
    /// Energy knob, 0–1.
    pub energy: f32,
    /// Valence knob, 0–1.
    pub valence: f32,
    /// Softmax temperature (> 0; raised to [`MIN_TEMPERATURE`]).
    pub temperature: f32,
    /// The mode, fixed or sampled.
    pub mode: ModeInput,
    /// One row of 9 uniforms per bar; its length (1–[`MAX_BARS`]) is the phrase length.
    pub bar_uniforms: &'a [[f32; TOKENS_PER_BAR]],
    /// Locked chord token per bar (None = sample); empty = nothing locked, else one per bar.
    pub forced_chords: &'a [Option<u16>],
    /// Nucleus sampling: only the most likely tokens whose mass reaches `top_p` are kept
    /// (1.0 = off; must be in (0, 1]).
    pub top_p: f32,
    /// Rhythm constraints per bar (see [`rhythm`]); empty = all free, else one per bar.
    pub rhythm: &'a [RhythmRow],
}

/// The tokens of one decoded phrase.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decoded {
    /// The mode the phrase was written in.
    pub mode: Mode,
    /// The mode graph's distribution, when it ran.
    pub mode_probs: Option<[f32; MODE_COUNT]>,
    /// `[chord, melody × 8]` per bar; only the first `len` rows are used.
    bars: [[u16; TOKENS_PER_BAR]; MAX_BARS],
    /// Bars decoded.
    len: usize,
}

impl Decoded {
    /// The token rows, one per bar.
    pub fn tokens(&self) -> &[[u16; TOKENS_PER_BAR]] {
        &self.bars[..self.len]
    }

    /// The progression these tokens spell in `key` (0–11). A melody `Hold` after a rest is
    /// kept (the renderer plays it as a rest).
    pub fn to_progression(&self, key: u8) -> Result<Progression, ModelError> {
        let mut bars = Vec::with_capacity(self.len);
        for (b, row) in self.tokens().iter().enumerate() {
            let Some(chord) = tokens::chord_from_token(row[0]) else {
                return err(format!(
                    "the model wrote chord token {} in bar {}, outside 0–{}",
                    row[0],
                    b + 1,
                    tokens::CHORD_VOCAB - 1
                ));
            };
            let mut melody = [Step::Rest; STEPS_PER_CHORD];
            for (k, (step, &t)) in melody.iter_mut().zip(&row[1..]).enumerate() {
                *step = tokens::step_from_token(t).ok_or_else(|| {
                    ModelError(format!(
                        "the model wrote melody token {t} in bar {} step {}, outside 0–{}",
                        b + 1,
                        k + 1,
                        tokens::MELODY_VOCAB - 1
                    ))
                })?;
            }
            bars.push(Bar { chord, melody });
        }
        let progression = Progression {
            key,
            mode: self.mode,
            bars,
        };
        progression
            .validate()
            .map_err(|e| ModelError(format!("the model wrote an invalid phrase: {e}")))?;
        Ok(progression)
    }
}

/// The random numbers of one seed, in the order documented at the top of this file.
#[derive(Debug, Clone, PartialEq)]
pub struct Draws {
    /// The stream, kept to draw fresh bar uniforms for a redraw.
    rng: ChaCha8Rng,
    /// The latent z.
    pub z: Vec<f32>,
    /// Tonic 0–11, used when the key is Auto.
    pub key: u8,
    /// Uniform for the mode graph, used when the mode is Auto.
    pub mode_uniform: f32,
    /// 9 uniforms per bar; the first `bars` rows are drawn, the rest are 0.
    pub bar_uniforms: [[f32; TOKENS_PER_BAR]; MAX_BARS],
    /// Bars drawn.
    pub bars: usize,
}

/// Uniform in [0, 1) from the top 53 bits of one draw.
fn unit_f64(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// Uniform in [0, 1) from the top 24 bits of one draw: exact in f32, never rounds up to 1.
fn unit_f32(rng: &mut ChaCha8Rng) -> f32 {
    (rng.next_u64() >> 40) as f32 / (1u32 << 24) as f32
}

impl Draws {
    /// The draws of `seed` for a phrase of `bars` (clamped to 1–[`MAX_BARS`]) and a latent of
    /// `z_dim` values.
    pub fn new(seed: u64, bars: usize, z_dim: usize) -> Draws {
        let mut d = Draws {
            rng: ChaCha8Rng::seed_from_u64(seed),
            z: Vec::with_capacity(z_dim),
            key: 0,
            mode_uniform: 0.0,
            bar_uniforms: [[0.0; TOKENS_PER_BAR]; MAX_BARS],
            bars: 0,
        };
        d.fill(seed, bars, z_dim);
        d
    }

    /// Redraws in place (reusing the z buffer).
    pub fn fill(&mut self, seed: u64, bars: usize, z_dim: usize) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(DECODER_STREAM);
        self.z.clear();
        while self.z.len() < z_dim {
            let (u1, u2) = (unit_f64(&mut rng), unit_f64(&mut rng));
            // 1 − u₁ is in (0, 1]: the logarithm is finite.
            let r = (-2.0 * (1.0 - u1).ln()).sqrt();
            let angle = std::f64::consts::TAU * u2;
            self.z.push((r * angle.cos()) as f32);
            if self.z.len() < z_dim {
                self.z.push((r * angle.sin()) as f32);
            }
        }
        self.key = ((unit_f64(&mut rng) * 12.0) as u8).min(11);
        self.mode_uniform = unit_f32(&mut rng);
        self.bars = bars.clamp(1, MAX_BARS);
        self.rng = rng;
        self.redraw_bars();
    }

    /// Draws the next 9 uniforms per bar from the stream (step 4, or step 5 for a redraw).
    pub fn redraw_bars(&mut self) {
        self.bar_uniforms = [[0.0; TOKENS_PER_BAR]; MAX_BARS];
        for row in &mut self.bar_uniforms[..self.bars] {
            for u in row.iter_mut() {
                *u = unit_f32(&mut self.rng);
            }
        }
    }
}

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GenerateParams {
    /// Seed of every random draw.
    pub seed: u64,
    /// Energy knob 0–1 (clamped).
    pub energy: f32,
    /// Valence knob 0–1 (clamped).
    pub valence: f32,
    /// Phrase length in bars: 1, 2, 4 or 8 in the plugin (any of 1–8 works).
    pub bars: u32,
    /// Fixed tonic 0–11, or None for the seed's.
    pub key: Option<u8>,
    /// Fixed mode, or None for the mode graph's choice.
    pub mode: Option<Mode>,
    /// Softmax temperature: 1.0 is the trained distribution, lower is safer, higher wilder.
    pub temperature: f32,
    /// Per bar: None = sample the chord; Some(chord) = keep this chord (Some(None) = keep "no
    /// chord"). Locking every bar writes a new melody over the same chords.
    pub locked_chords: [Option<Option<Chord>>; MAX_BARS],
    /// Nucleus sampling mass, (0, 1]; 1.0 = off (the trained distribution).
    pub top_p: f32,
    /// Per bar: None = free; Some(row) = keep this rhythm and choose new pitches for it.
    pub locked_rhythm: [Option<RhythmRow>; MAX_BARS],
}

impl Default for GenerateParams {
    fn default() -> Self {
        GenerateParams {
            seed: 1,
            energy: 0.5,
            valence: 0.5,
            bars: 4,
            key: None,
            mode: None,
            temperature: 1.0,
            locked_chords: [None; MAX_BARS],
            top_p: 1.0,
            locked_rhythm: [None; MAX_BARS],
        }
    }
}

impl GenerateParams {
    /// Parameters for the plugin's knobs and a seed (temperature 1, nothing locked).
    pub fn from_knobs(knobs: &Knobs, seed: u64) -> GenerateParams {
        GenerateParams {
            seed,
            energy: knobs.energy,
            valence: knobs.valence,
            bars: knobs.bars,
            key: knobs.key,
            mode: knobs.mode,
            ..GenerateParams::default()
        }
    }

    /// Locks every bar to the chords of `progression` (bars beyond it stay free).
    pub fn lock_chords_of(mut self, progression: &Progression) -> GenerateParams {
        for (lock, bar) in self.locked_chords.iter_mut().zip(&progression.bars) {
            *lock = Some(bar.chord);
        }
        self
    }

    /// Locks every bar to the melody rhythm of `progression` (bars beyond it stay free).
    pub fn lock_rhythm_of(mut self, progression: &Progression) -> GenerateParams {
        let mut sounding = false;
        for (lock, bar) in self.locked_rhythm.iter_mut().zip(&progression.bars) {
            let row = rhythm_of(bar, sounding);
            sounding = row[STEPS_PER_CHORD - 1] != rhythm::REST;
            *lock = Some(row);
        }
        self
    }
}

/// A generated phrase in token form, with the key it was given.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Generated {
    /// Tonic 0–11.
    pub key: u8,
    /// The tokens and mode.
    pub decoded: Decoded,
    /// How often a degenerate result was decoded again (0–[`MAX_REDRAWS`]).
    pub redraws: usize,
}

impl Generated {
    /// The phrase as a progression.
    pub fn progression(&self) -> Result<Progression, ModelError> {
        self.decoded.to_progression(self.key)
    }
}

/// One graph input kept between calls, so its storage is reused: tract releases its reference
/// after each run, and the next value is written in place.
struct Slot(Arc<Tensor>);

impl Slot {
    fn new<T: Datum + Copy>(shape: &[usize], values: &[T]) -> Result<Slot, ModelError> {
        Tensor::from_shape(shape, values)
            .map(|t| Slot(Arc::new(t)))
            .map_err(|e| ModelError(format!("cannot make an input tensor: {e}")))
    }

    fn set<T: Datum + Copy>(&mut self, values: &[T]) -> Result<(), ModelError> {
        if self.0.len() != values.len() {
            return err(format!(
                "an input needs {} values, got {}",
                self.0.len(),
                values.len()
            ));
        }
        if let Some(t) = Arc::get_mut(&mut self.0) {
            if let Ok(mut view) = t.try_as_plain_ram_mut() {
                if let Ok(slice) = view.as_slice_mut::<T>() {
                    slice.copy_from_slice(values);
                    return Ok(());
                }
            }
        }
        // Still shared (or not plain memory): replace it.
        let shape: Vec<usize> = self.0.shape().to_vec();
        *self = Slot::new(&shape, values)?;
        Ok(())
    }

    fn value(&self) -> TValue {
        TValue::from_const(self.0.clone())
    }
}

fn read_slice<'a, T: Datum>(value: &'a TValue, what: &str) -> Result<&'a [T], ModelError> {
    value
        .try_as_plain_ram()
        .and_then(|v| v.as_slice::<T>())
        .map_err(|e| ModelError(format!("cannot read `{what}`: {e}")))
}

/// Per-generation state owned by one worker thread: tract run states spawned once, reusable
/// inputs and the draws buffer. Make one per thread from a shared [`Model`].
pub struct Generator {
    /// Runs the graphs.
    runner: Runner,
    /// The last seed's draws (buffer reused).
    draws: Draws,
}

/// The graphs' run states and inputs.
struct Runner {
    /// Sizes of the model.
    meta: ModelMeta,
    /// The bar graph's plan (shared with the [`Model`]).
    bar_plan: Arc<TypedRunnableModel>,
    /// The mode graph's plan.
    mode_plan: Arc<TypedRunnableModel>,
    /// Run state of the bar graph, spawned once.
    bar: TypedSimpleState,
    /// Run state of the mode graph, spawned once.
    mode: TypedSimpleState,
    /// The bar graph's inputs.
    inputs: BarInputs,
    /// The mode graph's uniform `[1, 1]` (its other inputs are shared with the bar graph's).
    mode_uniform: Slot,
}

/// The bar graph's inputs, in its input order.
struct BarInputs {
    /// `z` `[1, z_dim]`.
    z: Slot,
    /// `energy` `[1]`.
    energy: Slot,
    /// `valence` `[1]`.
    valence: Slot,
    /// `mode` `[1]`, i64.
    mode: Slot,
    /// `bar_index` `[1]`, i64.
    bar_index: Slot,
    /// Zeros `[1, hidden]`: the state input of bar 0 (the graph ignores it there).
    zero_state: Slot,
    /// `state_out` of the previous bar, fed back as `state` without a copy.
    state: Option<TValue>,
    /// `uniforms` `[1, 9]`.
    uniforms: Slot,
    /// `temperature` `[1]`.
    temperature: Slot,
    /// `forced_chord` `[1]`, i64 (−1 = sample).
    forced_chord: Slot,
    /// `top_p` `[1]`.
    top_p: Slot,
    /// `rhythm` `[1, 8]`, i64 (−1 = free).
    rhythm: Slot,
}

impl fmt::Debug for Generator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Generator")
            .field("meta", &self.runner.meta)
            .finish_non_exhaustive()
    }
}

fn spawn(plan: &Arc<TypedRunnableModel>, file: &str) -> Result<TypedSimpleState, ModelError> {
    plan.spawn()
        .map_err(|e| ModelError(format!("{file}: cannot start a run state: {e:#}")))
}

impl Generator {
    /// Spawns run states for `model`. Cheap next to loading (no optimisation happens here).
    pub fn new(model: &Model) -> Result<Generator, ModelError> {
        Ok(Generator {
            runner: Runner::new(model)?,
            draws: Draws::new(0, 1, model.meta.z_dim),
        })
    }

    /// The sizes of the model this generator runs.
    pub fn meta(&self) -> &ModelMeta {
        &self.runner.meta
    }

    /// Generates a phrase from a seed and knobs. Same seed and knobs → the same progression,
    /// on any platform; same seed with other knobs → a variation (same z, same uniforms).
    pub fn generate(&mut self, params: &GenerateParams) -> Result<Progression, ModelError> {
        self.generate_tokens(params)?.progression()
    }

    /// Like [`Generator::generate`], returning the tokens (and the mode distribution).
    pub fn generate_tokens(&mut self, params: &GenerateParams) -> Result<Generated, ModelError> {
        if !(1..=MAX_BARS as u32).contains(&params.bars) {
            return err(format!(
                "a phrase has 1–{MAX_BARS} bars, not {}",
                params.bars
            ));
        }
        if let Some(key) = params.key.filter(|k| *k > 11) {
            return err(format!("key {key} is outside 0–11"));
        }
        for (name, v) in [("energy", params.energy), ("valence", params.valence)] {
            if !v.is_finite() {
                return err(format!("{name} is not a number"));
            }
        }
        let bars = params.bars as usize;
        self.draws.fill(params.seed, bars, self.runner.meta.z_dim);
        let mut forced = [None; MAX_BARS];
        for (f, lock) in forced.iter_mut().zip(&params.locked_chords) {
            *f = lock.map(tokens::chord_token);
        }
        let mut rhythm_rows = [[rhythm::FREE; STEPS_PER_CHORD]; MAX_BARS];
        for (row, lock) in rhythm_rows.iter_mut().zip(&params.locked_rhythm) {
            if let Some(locked) = lock {
                *row = *locked;
            }
        }
        let chords_free = params.locked_chords[..bars].iter().all(Option::is_none);
        let rhythm_free = params.locked_rhythm[..bars].iter().all(Option::is_none);
        // After the first decode, the mode is kept: a redraw must not change it.
        let mut mode = match params.mode {
            Some(mode) => ModeInput::Fixed(mode),
            None => ModeInput::Sample(self.draws.mode_uniform),
        };
        let mut redraws = 0;
        loop {
            let draws = &self.draws;
            let decoded = self.runner.decode(&DecodeInputs {
                z: &draws.z,
                energy: params.energy.clamp(0.0, 1.0),
                valence: params.valence.clamp(0.0, 1.0),
                temperature: params.temperature,
                mode,
                bar_uniforms: &draws.bar_uniforms[..bars],
                forced_chords: &forced[..bars],
                top_p: params.top_p,
                rhythm: &rhythm_rows[..bars],
            })?;
            if redraws == MAX_REDRAWS
                || degenerate(decoded.tokens(), chords_free, rhythm_free).is_none()
            {
                return Ok(Generated {
                    key: params.key.unwrap_or(draws.key),
                    decoded,
                    redraws,
                });
            }
            mode = ModeInput::Fixed(decoded.mode);
            self.draws.redraw_bars();
            redraws += 1;
        }
    }

    /// The draws of the last [`Generator::generate`] call.
    pub fn last_draws(&self) -> &Draws {
        &self.draws
    }

    /// Decodes one phrase from explicit inputs: the mode graph once (unless the mode is
    /// fixed), then the bar graph per bar, feeding each bar's `state_out` to the next. This is
    /// what [`Generator::generate`] runs after drawing its random numbers.
    pub fn decode_with(&mut self, inputs: &DecodeInputs) -> Result<Decoded, ModelError> {
        self.runner.decode(inputs)
    }
}

impl Runner {
    fn new(model: &Model) -> Result<Runner, ModelError> {
        let meta = model.meta;
        let (z, h) = (meta.z_dim, meta.hidden);
        Ok(Runner {
            meta,
            bar: spawn(&model.bar, BAR_GRAPH_FILE)?,
            mode: spawn(&model.mode, MODE_GRAPH_FILE)?,
            bar_plan: model.bar.clone(),
            mode_plan: model.mode.clone(),
            inputs: BarInputs {
                z: Slot::new(&[1, z], &vec![0.0f32; z])?,
                energy: Slot::new(&[1], &[0.5f32])?,
                valence: Slot::new(&[1], &[0.5f32])?,
                mode: Slot::new(&[1], &[0i64])?,
                bar_index: Slot::new(&[1], &[0i64])?,
                zero_state: Slot::new(&[1, h], &vec![0.0f32; h])?,
                state: None,
                uniforms: Slot::new(&[1, TOKENS_PER_BAR], &[0.5f32; TOKENS_PER_BAR])?,
                temperature: Slot::new(&[1], &[1.0f32])?,
                forced_chord: Slot::new(&[1], &[-1i64])?,
                top_p: Slot::new(&[1], &[1.0f32])?,
                rhythm: Slot::new(&[1, STEPS_PER_CHORD], &[-1i64; STEPS_PER_CHORD])?,
            },
            mode_uniform: Slot::new(&[1, 1], &[0.5f32])?,
        })
    }

    fn decode(&mut self, inputs: &DecodeInputs) -> Result<Decoded, ModelError> {
        let n = inputs.bar_uniforms.len();
        if !(1..=MAX_BARS).contains(&n) {
            return err(format!("a phrase has 1–{MAX_BARS} bars, not {n}"));
        }
        if inputs.z.len() != self.meta.z_dim {
            return err(format!(
                "z has {} values, the model needs {}",
                inputs.z.len(),
                self.meta.z_dim
            ));
        }
        if !inputs.forced_chords.is_empty() && inputs.forced_chords.len() != n {
            return err(format!(
                "{} locked chords given for {n} bars",
                inputs.forced_chords.len()
            ));
        }
        if let Some(t) = inputs
            .forced_chords
            .iter()
            .flatten()
            .find(|t| **t as usize >= tokens::CHORD_VOCAB)
        {
            return err(format!(
                "locked chord token {t} is outside 0–{}",
                tokens::CHORD_VOCAB - 1
            ));
        }
        if !inputs.rhythm.is_empty() && inputs.rhythm.len() != n {
            return err(format!(
                "{} rhythm rows given for {n} bars",
                inputs.rhythm.len()
            ));
        }
        if let Some(v) = inputs
            .rhythm
            .iter()
            .flatten()
            .find(|v| !(rhythm::FREE..=rhythm::NOTE).contains(*v))
        {
            return err(format!("rhythm value {v} is outside −1–2"));
        }
        if !(inputs.top_p > 0.0 && inputs.top_p <= 1.0) {
            return err(format!("top-p {} must be in (0, 1]", inputs.top_p));
        }
        if !inputs.temperature.is_finite() || inputs.temperature <= 0.0 {
            return err(format!(
                "temperature {} must be above 0",
                inputs.temperature
            ));
        }
        for (name, v) in [("energy", inputs.energy), ("valence", inputs.valence)] {
            if !v.is_finite() {
                return err(format!("{name} is not a number"));
            }
        }
        let temperature = inputs.temperature.max(MIN_TEMPERATURE);
        let (mode, mode_probs) = match inputs.mode {
            ModeInput::Fixed(mode) => (mode, None),
            ModeInput::Sample(u) => {
                let (ix, probs) =
                    self.run_mode(inputs.z, inputs.energy, inputs.valence, temperature, u)?;
                (Mode::ALL[ix], Some(probs))
            }
        };
        self.set_phrase_inputs(
            inputs.z,
            inputs.energy,
            inputs.valence,
            mode.index(),
            temperature,
            inputs.top_p,
        )?;
        let mut out = Decoded {
            mode,
            mode_probs,
            bars: [[0; TOKENS_PER_BAR]; MAX_BARS],
            len: n,
        };
        for (b, row) in inputs.bar_uniforms.iter().enumerate() {
            let forced = inputs.forced_chords.get(b).copied().flatten();
            let rhythm = inputs
                .rhythm
                .get(b)
                .copied()
                .unwrap_or([rhythm::FREE; STEPS_PER_CHORD]);
            out.bars[b] = self.run_bar(b, row, forced, &rhythm, b == 0)?;
        }
        Ok(out)
    }

    /// Runs the mode graph: the mode index (checked < 7) and its distribution.
    fn run_mode(
        &mut self,
        z: &[f32],
        energy: f32,
        valence: f32,
        temperature: f32,
        uniform: f32,
    ) -> Result<(usize, [f32; MODE_COUNT]), ModelError> {
        self.inputs.z.set(z)?;
        self.inputs.energy.set(&[energy])?;
        self.inputs.valence.set(&[valence])?;
        self.inputs.temperature.set(&[temperature])?;
        self.mode_uniform.set(&[uniform])?;
        let args = tvec![
            self.inputs.z.value(),
            self.inputs.energy.value(),
            self.inputs.valence.value(),
            self.inputs.temperature.value(),
            self.mode_uniform.value(),
        ];
        let out = run(&mut self.mode, &self.mode_plan, args, MODE_GRAPH_FILE)?;
        let mode = read_slice::<i64>(&out[0], "mode")?;
        let probs = read_slice::<f32>(&out[1], "mode_probs")?;
        let ix = match mode.first() {
            Some(&m) if (0..MODE_COUNT as i64).contains(&m) => m as usize,
            other => {
                return err(format!(
                    "{MODE_GRAPH_FILE} chose mode {other:?}, outside 0–{}",
                    MODE_COUNT - 1
                ))
            }
        };
        let mut p = [0.0f32; MODE_COUNT];
        for (slot, v) in p.iter_mut().zip(probs) {
            *slot = *v;
        }
        Ok((ix, p))
    }

    /// Writes the inputs that stay the same for every bar of a phrase.
    fn set_phrase_inputs(
        &mut self,
        z: &[f32],
        energy: f32,
        valence: f32,
        mode: usize,
        temperature: f32,
        top_p: f32,
    ) -> Result<(), ModelError> {
        self.inputs.top_p.set(&[top_p])?;
        self.inputs.z.set(z)?;
        self.inputs.energy.set(&[energy])?;
        self.inputs.valence.set(&[valence])?;
        self.inputs.mode.set(&[mode as i64])?;
        self.inputs.temperature.set(&[temperature])?;
        Ok(())
    }

    /// Runs the bar graph for bar `index`; `first` starts from the graph's initial state.
    fn run_bar(
        &mut self,
        index: usize,
        uniforms: &[f32; TOKENS_PER_BAR],
        forced_chord: Option<u16>,
        rhythm: &RhythmRow,
        first: bool,
    ) -> Result<[u16; TOKENS_PER_BAR], ModelError> {
        let inp = &mut self.inputs;
        let mut rhythm_i64 = [0i64; STEPS_PER_CHORD];
        for (slot, v) in rhythm_i64.iter_mut().zip(rhythm) {
            *slot = i64::from(*v);
        }
        inp.rhythm.set(&rhythm_i64)?;
        inp.bar_index.set(&[index as i64])?;
        inp.uniforms.set(uniforms)?;
        inp.forced_chord
            .set(&[forced_chord.map_or(-1, i64::from)])?;
        let state = match inp.state.take() {
            Some(state) if !first => state,
            _ => inp.zero_state.value(),
        };
        let args = tvec![
            inp.z.value(),
            inp.energy.value(),
            inp.valence.value(),
            inp.mode.value(),
            inp.bar_index.value(),
            state,
            inp.uniforms.value(),
            inp.temperature.value(),
            inp.forced_chord.value(),
            inp.top_p.value(),
            inp.rhythm.value(),
        ];
        let mut out = run(&mut self.bar, &self.bar_plan, args, BAR_GRAPH_FILE)?;
        let mut tokens = [0u16; TOKENS_PER_BAR];
        let raw = read_slice::<i64>(&out[0], "tokens")?;
        if raw.len() != TOKENS_PER_BAR {
            return err(format!(
                "{BAR_GRAPH_FILE} wrote {} tokens for a bar, expected {TOKENS_PER_BAR}",
                raw.len()
            ));
        }
        for (k, (slot, &t)) in tokens.iter_mut().zip(raw).enumerate() {
            let vocab = if k == 0 {
                tokens::CHORD_VOCAB
            } else {
                tokens::MELODY_VOCAB
            };
            if !(0..vocab as i64).contains(&t) {
                return err(format!(
                    "{BAR_GRAPH_FILE} wrote token {t} at position {k} of bar {}, outside 0–{}",
                    index + 1,
                    vocab - 1
                ));
            }
            *slot = t as u16;
        }
        self.inputs.state = out.pop();
        Ok(tokens)
    }
}

/// Runs a state; a tract error or panic becomes a [`ModelError`], and after a panic the state
/// is replaced so the next run starts clean.
fn run(
    state: &mut TypedSimpleState,
    plan: &Arc<TypedRunnableModel>,
    args: TVec<TValue>,
    file: &str,
) -> Result<TVec<TValue>, ModelError> {
    match catch_unwind(AssertUnwindSafe(|| state.run(args))) {
        Ok(Ok(out)) if out.len() == 2 => Ok(out),
        Ok(Ok(out)) => err(format!("{file} gave {} outputs, expected 2", out.len())),
        Ok(Err(e)) => err(format!("{file} failed to run: {e:#}")),
        Err(_) => {
            *state = spawn(plan, file)?;
            err(format!("{file}: tract stopped with an internal error"))
        }
    }
}

/// The neural [`PhraseSource`]: writes a progression for each request with the request's knobs
/// and the session seed. Owned by the worker thread; build it there (loading is slow).
#[derive(Debug)]
pub struct NeuralSource {
    /// Runs the model.
    generator: Generator,
    /// What the status line calls this source ("embedded model" or the custom folder).
    name: String,
    /// Sampling temperature (1.0 = as trained).
    pub temperature: f32,
    /// Chords to keep per bar (see [`GenerateParams::locked_chords`]); none by default.
    pub locked_chords: [Option<Option<Chord>>; MAX_BARS],
    /// Nucleus sampling mass (1.0 = off).
    pub top_p: f32,
    /// Why the user's model folder was refused, if it was (the embedded model is used instead).
    pub custom_model_error: Option<ModelError>,
}

impl NeuralSource {
    /// A source running an already loaded `model`, shown as `name`.
    pub fn new(model: &Model, name: impl Into<String>) -> Result<NeuralSource, ModelError> {
        Ok(NeuralSource {
            generator: Generator::new(model)?,
            name: name.into(),
            temperature: 1.0,
            locked_chords: [None; MAX_BARS],
            top_p: 1.0,
            custom_model_error: None,
        })
    }

    /// A source running the user's model folder if one is given and valid, else the embedded
    /// model (the reason is kept in [`NeuralSource::custom_model_error`] and logged). Loads the
    /// embedded model on first use: call it on the worker thread.
    pub fn load(custom_dir: Option<&Path>) -> Result<NeuralSource, ModelError> {
        let (model, custom_error) = Model::custom_or_embedded(custom_dir)?;
        let name = match (custom_dir, &custom_error) {
            (Some(dir), None) => format!("custom model ({})", dir.display()),
            _ => "embedded model".to_string(),
        };
        if let Some(e) = &custom_error {
            nice_plug::nice_warn!("Lofi Loom is using its built-in model: {e}");
        }
        let mut source = NeuralSource::new(&model, name)?;
        source.custom_model_error = custom_error;
        Ok(source)
    }

    /// The generator, e.g. for tokens or draws.
    pub fn generator(&mut self) -> &mut Generator {
        &mut self.generator
    }
}

impl PhraseSource for NeuralSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn warning(&self) -> Option<String> {
        self.custom_model_error
            .as_ref()
            .map(|e| format!("your model was not used, the built-in one plays instead: {e}"))
    }

    fn progression(
        &mut self,
        request: &Request,
        seed: u64,
        session: &Session,
    ) -> Result<Option<Progression>, String> {
        let mut params = GenerateParams {
            temperature: self.temperature,
            top_p: self.top_p,
            locked_chords: self.locked_chords,
            ..GenerateParams::from_knobs(&request.knobs, seed)
        };
        // The Lock switches keep what plays now (bars beyond it stay free).
        if let Some(playing) = &session.progression {
            if request.knobs.lock_chords {
                params = params.lock_chords_of(playing);
            }
            if request.knobs.lock_rhythm {
                params = params.lock_rhythm_of(playing);
            }
        }
        self.generator
            .generate(&params)
            .map(Some)
            .map_err(|e| e.to_string())
    }
}
