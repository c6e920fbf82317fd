//! The neural decoder: loads Lofi Loom's ONNX graphs with tract (the mode graph and the bar
//! graph's three variants: nucleus, plain for top-p 1, batched for candidates), checks their
//! interface, draws the seeded random numbers, runs the graphs bar by bar and turns the tokens
//! into a [`Progression`]; for a new seed it also writes and scores the candidates. The only
//! module that imports tract (pinned in `Cargo.toml`).
//!
//! Ownership, by thread:
//! * [`Model`] — read-only after loading, `Send + Sync`, shared in an `Arc` by every plugin
//!   instance (the embedded one is loaded and optimised once per process, off the audio thread:
//!   by whoever needs it first, never the audio thread).
//! * [`Generator`] — per-generation state owned by one worker thread: tract's run states
//!   (spawned once), reusable input tensors and the random draws.
//!
//! It imports neither the worker, the session nor the plugin: the worker's adapter
//! (`worker::neural`) turns requests into [`GenerateParams`].
//!
//! Split by job: [`model`](Model) loads and checks the graphs, `draws` makes the seeded random
//! numbers, `runner` feeds tensors to tract, `generate` holds the policy (locks, redraws),
//! `candidates` derives the candidates' seeds and scores them.
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

mod candidates;
mod draws;
mod generate;
mod model;
mod runner;

pub use candidates::{candidate_seed, Candidate, Candidates};
pub use draws::{Draws, DECODER_STREAM};
pub use generate::{degenerate, rhythm_of, GenerateParams, Generated, Generator};
pub use model::{
    plain_graph_cache, Model, ModelMeta, BAR_CANDIDATES_GRAPH_FILE, BAR_GRAPH_FILE,
    BAR_PLAIN_CACHE_FILE, BAR_PLAIN_GRAPH_FILE, CANDIDATES, MODEL_META_FILE, MODE_GRAPH_FILE,
};
pub use runner::{DecodeInputs, Decoded, ModeInput};

use crate::music::progression::STEPS_PER_CHORD;

/// Tokens per bar: the chord, then the melody steps.
pub const TOKENS_PER_BAR: usize = 1 + STEPS_PER_CHORD;
/// Modes the mode graph chooses from ([`Mode::ALL`]).
pub const MODE_COUNT: usize = 7;
/// Lowest temperature passed to the graphs (MODEL.md: keep ≥ 0.05; lower is nearly argmax).
pub const MIN_TEMPERATURE: f32 = 0.05;
/// How often a degenerate phrase is decoded again with fresh uniforms.
pub const MAX_REDRAWS: usize = 3;

/// Why a model could not be loaded or run: a plain message for the user naming what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ModelError(pub String);

pub(crate) fn err<T>(msg: impl Into<String>) -> Result<T, ModelError> {
    Err(ModelError(msg.into()))
}

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

// The model is shared across threads and a generator moves to the worker thread; fail the
// build if a tract upgrade breaks either.
const _: fn() = || {
    fn shared<T: Send + Sync>() {}
    shared::<Model>();
    fn owned<T: Send>() {}
    owned::<Generator>();
};
