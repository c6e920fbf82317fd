//! Loading and checking: reads the ONNX graphs (embedded or from a user's folder), checks
//! their names, types, shapes and vocabularies, and optimises them once with tract. The result,
//! [`Model`], is read-only and shared by every generator in the process.
//!
//! A model has a mode graph and a bar graph with the nucleus (top-p) sampler, and may have a
//! plain bar graph ([`BAR_PLAIN_GRAPH_FILE`]): the same bar, token for token, at top-p 1,
//! without the nucleus machinery, so fewer operations per call. Phrases at top-p 1 (the
//! plugin's setting) run the plain graph. The embedded model has all three and loads the
//! nucleus graph only when a phrase first needs it (top-p below 1, e.g. `lofi-loom render
//! --top-p 0.9`), so activation pays for the plain and mode graphs only.

use super::runner::Runner;
use super::{err, rhythm, ModelError, MODE_COUNT, TOKENS_PER_BAR};
use crate::music::progression::{tokens, MAX_BARS, STEPS_PER_CHORD};
use serde::Deserialize;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::OnceLock;
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::infer::Factoid;

/// Folder (relative to this file) the embedded model is read from at build time. One line to
/// change when the model moves; the file names are the constants below.
macro_rules! embedded_model_dir {
    () => {
        "../../models/"
    };
}

/// File name of the bar graph in a model folder.
pub const BAR_GRAPH_FILE: &str = "lofi_loom_bar.onnx";
/// File name of the plain bar graph, optional in a model folder.
pub const BAR_PLAIN_GRAPH_FILE: &str = "lofi_loom_bar_plain.onnx";
/// File name of the embedded plain bar graph's cache: [`BAR_PLAIN_GRAPH_FILE`] as tract
/// holds it after reading, checking and decluttering it ([`plain_graph_cache`]), which loads
/// in about half the time. A cache that does not load is set aside for the ONNX file.
pub const BAR_PLAIN_CACHE_FILE: &str = "lofi_loom_bar_plain.nnef.tar";
/// File name of the batched plain bar graph, optional in a model folder: one call decodes a
/// bar of [`CANDIDATES`] phrases.
pub const BAR_CANDIDATES_GRAPH_FILE: &str = "lofi_loom_bar_plain_k8.onnx";
/// Phrases the batched bar graph decodes at once: the candidates of one phrase.
pub const CANDIDATES: usize = 8;
/// File name of the mode graph in a model folder.
pub const MODE_GRAPH_FILE: &str = "lofi_loom_mode.onnx";
/// File name of the sizes a model folder declares.
pub const MODEL_META_FILE: &str = "lofi_loom_model.json";

/// The embedded bar graph.
const EMBEDDED_BAR: &[u8] = include_bytes!(concat!(embedded_model_dir!(), "lofi_loom_bar.onnx"));
/// The embedded plain bar graph.
const EMBEDDED_BAR_PLAIN: &[u8] =
    include_bytes!(concat!(embedded_model_dir!(), "lofi_loom_bar_plain.onnx"));
/// The embedded plain bar graph's cache.
const EMBEDDED_BAR_PLAIN_CACHE: &[u8] = include_bytes!(concat!(
    embedded_model_dir!(),
    "lofi_loom_bar_plain.nnef.tar"
));
/// The embedded batched plain bar graph.
const EMBEDDED_BAR_CANDIDATES: &[u8] = include_bytes!(concat!(
    embedded_model_dir!(),
    "lofi_loom_bar_plain_k8.onnx"
));
/// The embedded mode graph.
const EMBEDDED_MODE: &[u8] = include_bytes!(concat!(embedded_model_dir!(), "lofi_loom_mode.onnx"));
/// The embedded model's declared sizes.
const EMBEDDED_META: &str = include_str!(concat!(embedded_model_dir!(), "lofi_loom_model.json"));

/// Largest latent size a custom model may declare (a sanity bound, the embedded one is 16).
const MAX_Z_DIM: usize = 1024;
/// Largest recurrent state a custom model may declare (the embedded one is 256).
const MAX_HIDDEN: usize = 1 << 16;
/// A uniform beyond 1 makes inverse-CDF sampling pick the last token of the vocabulary: the
/// load-time probe uses it to read the graph's real vocabulary sizes.
const PROBE_UNIFORM: f32 = 2.0;

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

/// The bar graph variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BarGraph {
    /// The nucleus sampler, any top-p ([`BAR_GRAPH_FILE`]).
    Nucleus,
    /// The plain sampler, top-p 1 ([`BAR_PLAIN_GRAPH_FILE`]).
    Plain,
    /// The plain sampler for [`CANDIDATES`] phrases at once ([`BAR_CANDIDATES_GRAPH_FILE`]).
    Candidates,
}

impl BarGraph {
    /// Its file name.
    pub(super) fn file(self) -> &'static str {
        match self {
            BarGraph::Nucleus => BAR_GRAPH_FILE,
            BarGraph::Plain => BAR_PLAIN_GRAPH_FILE,
            BarGraph::Candidates => BAR_CANDIDATES_GRAPH_FILE,
        }
    }

    /// Rows per call.
    pub(super) fn batch(self) -> usize {
        match self {
            BarGraph::Candidates => CANDIDATES,
            _ => 1,
        }
    }

    /// Whether it has the `top_p` input.
    fn has_top_p(self) -> bool {
        self == BarGraph::Nucleus
    }
}

impl Interface {
    /// A bar graph's: the plain ones have no `top_p`; the batched one has [`CANDIDATES`] rows
    /// in every input and output.
    fn bar(meta: &ModelMeta, graph: BarGraph) -> Interface {
        let (f, i) = (f32::datum_type(), i64::datum_type());
        let b = graph.batch();
        let mut inputs = vec![
            port("z", f, &[b, meta.z_dim]),
            port("energy", f, &[b]),
            port("valence", f, &[b]),
            port("mode", i, &[b]),
            port("bar_index", i, &[b]),
            port("state", f, &[b, meta.hidden]),
            port("uniforms", f, &[b, TOKENS_PER_BAR]),
            port("temperature", f, &[b]),
            port("forced_chord", i, &[b]),
            port("top_p", f, &[b]),
            port("rhythm", i, &[b, STEPS_PER_CHORD]),
        ];
        if !graph.has_top_p() {
            inputs.retain(|p| p.name != "top_p");
        }
        Interface {
            file: graph.file(),
            inputs,
            outputs: vec![
                port("tokens", i, &[b, TOKENS_PER_BAR]),
                port("state_out", f, &[b, meta.hidden]),
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
        let typed = typed_graph(onnx, bytes, iface)?;
        runnable(typed, iface)
    })
}

/// Reads and checks one ONNX graph, typed and decluttered (not yet optimised).
fn typed_graph(
    onnx: &tract_onnx::Onnx,
    bytes: &[u8],
    iface: &Interface,
) -> Result<TypedModel, ModelError> {
    let file = iface.file;
    let mut reader = bytes;
    let mut model = onnx
        .model_for_read(&mut reader)
        .map_err(|e| ModelError(format!("{file} is not a readable ONNX model: {e:#}")))?;
    check_inputs(&mut model, iface)?;
    check_output_names(&model, iface)?;
    model
        .into_typed()
        .and_then(|m| m.into_decluttered())
        .map_err(|e| ModelError(format!("{file} could not be prepared by tract: {e:#}")))
}

/// Optimises a typed graph, checks its outputs and makes it runnable.
fn runnable(typed: TypedModel, iface: &Interface) -> Result<Arc<TypedRunnableModel>, ModelError> {
    let file = iface.file;
    let typed = typed
        .into_optimized()
        .map_err(|e| ModelError(format!("{file} could not be prepared by tract: {e:#}")))?;
    check_output_facts(&typed, iface)?;
    typed
        .into_runnable()
        .map_err(|e| ModelError(format!("{file} could not be made runnable: {e:#}")))
}

/// The plain bar graph's cache: `onnx` (the plain graph's ONNX bytes) read, checked, typed
/// and decluttered by tract, written in tract's NNEF form with fixed timestamps, so the same
/// graph always gives the same bytes ([`BAR_PLAIN_CACHE_FILE`] is made by this).
pub fn plain_graph_cache(onnx: &[u8], meta_json: &str) -> Result<Vec<u8>, ModelError> {
    let meta = ModelMeta::parse(meta_json)?;
    let iface = Interface::bar(&meta, BarGraph::Plain);
    let typed = guarded(iface.file, || {
        typed_graph(&tract_onnx::onnx(), onnx, &iface)
    })?;
    let mut bytes = Vec::new();
    tract_nnef::nnef()
        .with_onnx()
        .write_to_tar_with_config(&typed, &mut bytes, false, true)
        .map_err(|e| ModelError(format!("cannot write the plain graph's cache: {e:#}")))?;
    Ok(bytes)
}

/// Loads the plain bar graph from its cache (see [`plain_graph_cache`]): its inputs must be
/// the plain graph's, by name and fact, and its outputs are checked as the ONNX graph's are.
fn load_cached(bytes: &[u8], meta: &ModelMeta) -> Result<Arc<TypedRunnableModel>, ModelError> {
    let iface = Interface::bar(meta, BarGraph::Plain);
    let file = BAR_PLAIN_CACHE_FILE;
    guarded(file, || {
        let typed = tract_nnef::nnef()
            .with_onnx()
            .model_for_read(&mut &bytes[..])
            .map_err(|e| ModelError(format!("{file} is not a readable tract model: {e:#}")))?;
        let inputs = typed
            .input_outlets()
            .map_err(|e| ModelError(format!("{file}: {e}")))?;
        if inputs.len() != iface.inputs.len() {
            return err(format!("{file} has {} inputs", inputs.len()));
        }
        for (outlet, want) in inputs.iter().zip(&iface.inputs) {
            let fact = typed
                .outlet_fact(*outlet)
                .map_err(|e| ModelError(format!("{file}: {e}")))?;
            let name = &typed.node(outlet.node).name;
            if name != want.name
                || fact.datum_type != want.datum
                || fact.shape.as_concrete() != Some(&want.shape[..])
            {
                return err(format!(
                    "{file}: input `{name}` ({:?}, {:?}) is not `{}`",
                    fact.datum_type, fact.shape, want.name
                ));
            }
        }
        runnable(typed, &iface)
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

/// Where a plain bar graph comes from.
enum PlainSource<'a> {
    /// An ONNX file.
    Onnx(&'a [u8]),
    /// Its cache, and the ONNX file should the cache not load.
    Cached {
        /// [`plain_graph_cache`]'s bytes.
        cache: &'a [u8],
        /// The ONNX file.
        onnx: &'a [u8],
    },
}

/// A bar graph loaded with the model, or (the embedded model's nucleus and batched graphs) on
/// first use.
pub(super) struct LazyGraph {
    /// Which one.
    graph: BarGraph,
    /// The ONNX bytes still to load (None: loaded with the model).
    source: Option<&'static [u8]>,
    /// The sizes to check it against.
    meta: ModelMeta,
    /// The plan, once loaded (or the reason it could not be).
    plan: OnceLock<Result<Arc<TypedRunnableModel>, ModelError>>,
}

impl std::fmt::Debug for LazyGraph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyGraph")
            .field("graph", &self.graph)
            .field("loaded", &self.plan.get().is_some())
            .finish()
    }
}

impl LazyGraph {
    /// A graph already loaded and checked.
    fn loaded(graph: BarGraph, plan: Arc<TypedRunnableModel>, meta: ModelMeta) -> LazyGraph {
        LazyGraph {
            graph,
            source: None,
            meta,
            plan: OnceLock::from(Ok(plan)),
        }
    }

    /// A graph loaded (and checked) when [`LazyGraph::get`] is first called.
    fn lazy(graph: BarGraph, bytes: &'static [u8], meta: ModelMeta) -> LazyGraph {
        LazyGraph {
            graph,
            source: Some(bytes),
            meta,
            plan: OnceLock::new(),
        }
    }

    /// The plan, loading it first if need be (slow then: tens of milliseconds; worker thread).
    pub(super) fn get(&self) -> Result<Arc<TypedRunnableModel>, ModelError> {
        self.plan
            .get_or_init(|| {
                let file = self.graph.file();
                let bytes = self
                    .source
                    .ok_or_else(|| ModelError(format!("{file} was not loaded")))?;
                let plan = load_graph(
                    &tract_onnx::onnx(),
                    bytes,
                    &Interface::bar(&self.meta, self.graph),
                )
                .map_err(|e| ModelError(format!("the built-in model is broken: {e}")))?;
                probe_bar(&plan, &self.meta, self.graph)?;
                Ok(plan)
            })
            .clone()
    }
}

/// The decoder's graphs, checked and optimised. Read-only: share it in an `Arc` between
/// threads and instances; each worker makes its own `Generator` from it.
#[derive(Debug)]
pub struct Model {
    /// The bar graph with the nucleus sampler (any top-p).
    pub(super) nucleus: Arc<LazyGraph>,
    /// The plain bar graph for top-p 1, if the model has one.
    pub(super) plain: Option<Arc<TypedRunnableModel>>,
    /// The batched plain bar graph for candidates, if the model has one.
    pub(super) candidates: Option<Arc<LazyGraph>>,
    /// Whether the plain graph came from its cache.
    plain_from_cache: bool,
    /// The mode graph, ready to run.
    pub(super) mode: Arc<TypedRunnableModel>,
    /// The sizes the folder declared (and the graphs were checked against).
    pub(super) meta: ModelMeta,
}

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
    /// is what the plugin uses; this is for measuring the load). Its nucleus graph is loaded
    /// on first use.
    pub fn load_embedded() -> Result<Model, ModelError> {
        Model::load_embedded_with_plain_cache(EMBEDDED_BAR_PLAIN_CACHE)
    }

    /// [`Model::load_embedded`] with `cache` as the plain graph's cache (a damaged one, say:
    /// it is set aside for the ONNX file, and [`Model::plain_from_cache`] says so).
    pub fn load_embedded_with_plain_cache(cache: &[u8]) -> Result<Model, ModelError> {
        let meta = ModelMeta::parse(EMBEDDED_META)?;
        Model::assemble(
            LazyGraph::lazy(BarGraph::Nucleus, EMBEDDED_BAR, meta),
            Some(PlainSource::Cached {
                cache,
                onnx: EMBEDDED_BAR_PLAIN,
            }),
            Some(LazyGraph::lazy(
                BarGraph::Candidates,
                EMBEDDED_BAR_CANDIDATES,
                meta,
            )),
            EMBEDDED_MODE,
            meta,
        )
        .map_err(|e| ModelError(format!("the built-in model is broken: {e}")))
    }

    /// Loads a user's model folder holding [`BAR_GRAPH_FILE`], [`MODE_GRAPH_FILE`] and
    /// [`MODEL_META_FILE`], and [`BAR_PLAIN_GRAPH_FILE`] and [`BAR_CANDIDATES_GRAPH_FILE`] if
    /// it has them, with the same checks
    /// as the embedded model; every graph is loaded at once. Never panics: a missing file, a
    /// file that is not ONNX or a graph with another interface is an error naming it.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Model, ModelError> {
        let dir = dir.as_ref();
        let read = |name: &str| -> Result<Option<Vec<u8>>, ModelError> {
            let path = dir.join(name);
            match std::fs::read(&path) {
                Ok(bytes) => Ok(Some(bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => err(format!("cannot read {}: {e}", path.display())),
            }
        };
        let needed = |name: &str| -> Result<Vec<u8>, ModelError> {
            read(name)?.ok_or_else(|| {
                ModelError(format!("the model folder {} has no {name}", dir.display()))
            })
        };
        let meta = needed(MODEL_META_FILE)?;
        let meta = String::from_utf8(meta)
            .map_err(|_| ModelError(format!("{MODEL_META_FILE} is not text")))?;
        let bar = needed(BAR_GRAPH_FILE)?;
        let mode = needed(MODE_GRAPH_FILE)?;
        let plain = read(BAR_PLAIN_GRAPH_FILE)?;
        let meta = ModelMeta::parse(&meta)?;
        let candidates = match read(BAR_CANDIDATES_GRAPH_FILE)? {
            Some(bytes) => {
                let plan = load_graph(
                    &tract_onnx::onnx(),
                    &bytes,
                    &Interface::bar(&meta, BarGraph::Candidates),
                )?;
                probe_bar(&plan, &meta, BarGraph::Candidates)?;
                Some(LazyGraph::loaded(BarGraph::Candidates, plan, meta))
            }
            None => None,
        };
        Model::eager(
            &bar,
            plain.as_deref().map(PlainSource::Onnx),
            candidates,
            &mode,
            meta,
        )
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
        Model::eager(bar, None, None, mode, ModelMeta::parse(meta_json)?)
    }

    /// [`Model::from_bytes`] with a plain bar graph too, if given; every graph loaded now.
    fn eager(
        bar: &[u8],
        plain: Option<PlainSource>,
        candidates: Option<LazyGraph>,
        mode: &[u8],
        meta: ModelMeta,
    ) -> Result<Model, ModelError> {
        let nucleus = load_graph(
            &tract_onnx::onnx(),
            bar,
            &Interface::bar(&meta, BarGraph::Nucleus),
        )?;
        probe_bar(&nucleus, &meta, BarGraph::Nucleus)?;
        Model::assemble(
            LazyGraph::loaded(BarGraph::Nucleus, nucleus, meta),
            plain,
            candidates,
            mode,
            meta,
        )
    }

    /// Loads the plain and mode graphs beside `nucleus` and `candidates` and checks them.
    fn assemble(
        nucleus: LazyGraph,
        plain: Option<PlainSource>,
        candidates: Option<LazyGraph>,
        mode: &[u8],
        meta: ModelMeta,
    ) -> Result<Model, ModelError> {
        let onnx = tract_onnx::onnx();
        let from_onnx = |bytes: &[u8]| -> Result<Arc<TypedRunnableModel>, ModelError> {
            let plan = load_graph(&onnx, bytes, &Interface::bar(&meta, BarGraph::Plain))?;
            probe_bar(&plan, &meta, BarGraph::Plain)?;
            Ok(plan)
        };
        let mut plain_from_cache = false;
        let plain = match plain {
            Some(PlainSource::Onnx(bytes)) => Some(from_onnx(bytes)?),
            Some(PlainSource::Cached { cache, onnx }) => {
                let cached = load_cached(cache, &meta).and_then(|plan| {
                    probe_bar(&plan, &meta, BarGraph::Plain)?;
                    Ok(plan)
                });
                match cached {
                    Ok(plan) => {
                        plain_from_cache = true;
                        Some(plan)
                    }
                    Err(e) => {
                        tracing::warn!("Lofi Loom loads {BAR_PLAIN_GRAPH_FILE} instead: {e}");
                        Some(from_onnx(onnx)?)
                    }
                }
            }
            None => None,
        };
        let model = Model {
            nucleus: Arc::new(nucleus),
            plain,
            plain_from_cache,
            candidates: candidates.map(Arc::new),
            mode: load_graph(&onnx, mode, &Interface::mode(&meta))?,
            meta,
        };
        model.probe_mode()?;
        Ok(model)
    }

    /// This model without its plain graph: every phrase runs the nucleus graph, whatever its
    /// top-p (for comparing the two; loads the nucleus graph if it is not yet).
    pub fn nucleus_only(&self) -> Result<Model, ModelError> {
        self.nucleus.get()?;
        Ok(Model {
            nucleus: self.nucleus.clone(),
            plain: None,
            candidates: None,
            plain_from_cache: false,
            mode: self.mode.clone(),
            meta: self.meta,
        })
    }

    /// Whether phrases at top-p 1 run a plain bar graph.
    pub fn has_plain_graph(&self) -> bool {
        self.plain.is_some()
    }

    /// Whether the plain graph was loaded from its cache ([`BAR_PLAIN_CACHE_FILE`]).
    pub fn plain_from_cache(&self) -> bool {
        self.plain_from_cache
    }

    /// Whether the model has the batched bar graph for candidates.
    pub fn has_candidates_graph(&self) -> bool {
        self.candidates.is_some()
    }

    /// Whether the nucleus bar graph is loaded (the embedded model loads it on first use).
    pub fn nucleus_loaded(&self) -> bool {
        self.nucleus.plan.get().is_some()
    }

    /// The sizes this model was checked against.
    pub fn meta(&self) -> &ModelMeta {
        &self.meta
    }

    /// Runs the mode graph once with a uniform beyond 1, which selects the last mode: the
    /// graph must choose among Lofi Loom's seven.
    fn probe_mode(&self) -> Result<(), ModelError> {
        let mut g = Runner::new(self)?;
        let z = vec![0.0f32; self.meta.z_dim];
        let (mode, _) = g.run_mode(&z, 0.5, 0.5, 1.0, PROBE_UNIFORM)?;
        if mode != MODE_COUNT - 1 {
            return err(format!(
                "{MODE_GRAPH_FILE} does not choose among {MODE_COUNT} modes (probe gave {mode})"
            ));
        }
        Ok(())
    }
}

/// Runs a bar graph once with uniforms beyond 1, which select the last token of each
/// vocabulary: the graph's own vocabularies must end where Lofi Loom's do. The bar index is
/// the last one, so the graph must also know all [`MAX_BARS`] positions.
fn probe_bar(
    plan: &Arc<TypedRunnableModel>,
    meta: &ModelMeta,
    graph: BarGraph,
) -> Result<(), ModelError> {
    let file = graph.file();
    let b = graph.batch();
    let tensor = |shape: &[usize], values: Vec<f32>| {
        Tensor::from_shape(shape, &values).map_err(|e| ModelError(format!("{file}: {e}")))
    };
    let int = |shape: &[usize], values: &[i64]| {
        Tensor::from_shape(shape, values).map_err(|e| ModelError(format!("{file}: {e}")))
    };
    let mut args: TVec<TValue> = tvec![
        tensor(&[b, meta.z_dim], vec![0.0; b * meta.z_dim])?.into(),
        tensor(&[b], vec![0.5; b])?.into(),
        tensor(&[b], vec![0.5; b])?.into(),
        int(&[b], &vec![0; b])?.into(),
        int(&[b], &vec![MAX_BARS as i64 - 1; b])?.into(),
        tensor(&[b, meta.hidden], vec![0.0; b * meta.hidden])?.into(),
        tensor(
            &[b, TOKENS_PER_BAR],
            vec![PROBE_UNIFORM; b * TOKENS_PER_BAR]
        )?
        .into(),
        tensor(&[b], vec![1.0; b])?.into(),
        int(&[b], &vec![-1; b])?.into(),
    ];
    if graph.has_top_p() {
        args.push(tensor(&[b], vec![1.0; b])?.into());
    }
    args.push(
        int(
            &[b, STEPS_PER_CHORD],
            &vec![i64::from(rhythm::FREE); b * STEPS_PER_CHORD],
        )?
        .into(),
    );
    let out = guarded(file, || {
        plan.spawn()
            .and_then(|mut state| state.run(args))
            .map_err(|e| ModelError(format!("{file} failed to run: {e:#}")))
    })?;
    let tokens = out
        .first()
        .and_then(|t| {
            t.try_as_plain_ram()
                .ok()?
                .as_slice::<i64>()
                .ok()
                .map(<[i64]>::to_vec)
        })
        .ok_or_else(|| ModelError(format!("{file} gave no tokens")))?;
    if tokens.len() != b * TOKENS_PER_BAR {
        return err(format!(
            "{file} wrote {} tokens for a bar, expected {}",
            tokens.len(),
            b * TOKENS_PER_BAR
        ));
    }
    // Every row chose the last tokens: check the first; the others must be the same.
    if tokens
        .chunks(TOKENS_PER_BAR)
        .any(|row| row != &tokens[..TOKENS_PER_BAR])
    {
        return err(format!("{file}: the rows of a batch decode differently"));
    }
    if tokens[0] != tokens::CHORD_VOCAB as i64 - 1 {
        return err(format!(
            "{file}: the chord vocabulary has {} tokens, Lofi Loom's has {}",
            tokens[0] + 1,
            tokens::CHORD_VOCAB
        ));
    }
    if let Some(t) = tokens[1..TOKENS_PER_BAR]
        .iter()
        .find(|t| **t != tokens::MELODY_VOCAB as i64 - 1)
    {
        return err(format!(
            "{file}: the melody vocabulary has {} tokens, Lofi Loom's has {}",
            t + 1,
            tokens::MELODY_VOCAB
        ));
    }
    Ok(())
}
