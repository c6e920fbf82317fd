//! The tensor runner: tract run states spawned once, input tensors reused between calls, the
//! mode graph once per phrase and the bar graph once per bar, each bar's state fed to the next.
//! A phrase at top-p 1 runs the plain bar graph when the model has one, else the nucleus
//! graph (its run state spawned, and for the embedded model the graph loaded, on first use).

use super::model::{
    LazyGraph, Model, ModelMeta, BAR_CANDIDATES_GRAPH_FILE, BAR_GRAPH_FILE, BAR_PLAIN_GRAPH_FILE,
    CANDIDATES, MODE_GRAPH_FILE,
};
use super::{err, rhythm, ModelError, RhythmRow, MIN_TEMPERATURE, MODE_COUNT, TOKENS_PER_BAR};
use crate::music::progression::{tokens, Bar, Mode, Progression, Step, MAX_BARS, STEPS_PER_CHORD};
use std::panic::{catch_unwind, AssertUnwindSafe};
use tract_onnx::prelude::*;

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
    /// Tokens decoded elsewhere (a row of a batch).
    pub(super) fn from_rows(
        mode: Mode,
        mode_probs: Option<[f32; MODE_COUNT]>,
        rows: &[[u16; TOKENS_PER_BAR]],
    ) -> Decoded {
        let mut bars = [[0; TOKENS_PER_BAR]; MAX_BARS];
        let len = rows.len().min(MAX_BARS);
        bars[..len].copy_from_slice(&rows[..len]);
        Decoded {
            mode,
            mode_probs,
            bars,
            len,
        }
    }

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

/// The graphs' run states and inputs.
pub(super) struct Runner {
    /// Sizes of the model.
    pub(super) meta: ModelMeta,
    /// The nucleus bar graph (shared with the [`Model`]).
    nucleus: Arc<LazyGraph>,
    /// Its plan and run state, once a phrase has needed it.
    bar: Option<(Arc<TypedRunnableModel>, TypedSimpleState)>,
    /// The plain bar graph's plan and run state, if the model has one.
    plain: Option<(Arc<TypedRunnableModel>, TypedSimpleState)>,
    /// The top-p of the phrase being decoded.
    top_p: f32,
    /// The mode graph's plan.
    mode_plan: Arc<TypedRunnableModel>,
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

fn spawn(plan: &Arc<TypedRunnableModel>, file: &str) -> Result<TypedSimpleState, ModelError> {
    plan.spawn()
        .map_err(|e| ModelError(format!("{file}: cannot start a run state: {e:#}")))
}

impl Runner {
    pub(super) fn new(model: &Model) -> Result<Runner, ModelError> {
        let meta = model.meta;
        let (z, h) = (meta.z_dim, meta.hidden);
        Ok(Runner {
            meta,
            nucleus: model.nucleus.clone(),
            bar: None,
            plain: match &model.plain {
                Some(plan) => Some((plan.clone(), spawn(plan, BAR_PLAIN_GRAPH_FILE)?)),
                None => None,
            },
            top_p: 1.0,
            mode: spawn(&model.mode, MODE_GRAPH_FILE)?,
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

    /// Refuses inputs the graphs cannot take (lengths, token and rhythm ranges, top-p,
    /// temperature, knobs that are not numbers).
    pub(super) fn check(&self, inputs: &DecodeInputs) -> Result<(), ModelError> {
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
        Ok(())
    }

    pub(super) fn decode(&mut self, inputs: &DecodeInputs) -> Result<Decoded, ModelError> {
        self.check(inputs)?;
        let n = inputs.bar_uniforms.len();
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
    pub(super) fn run_mode(
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
    pub(super) fn set_phrase_inputs(
        &mut self,
        z: &[f32],
        energy: f32,
        valence: f32,
        mode: usize,
        temperature: f32,
        top_p: f32,
    ) -> Result<(), ModelError> {
        self.inputs.top_p.set(&[top_p])?;
        self.top_p = top_p;
        self.inputs.z.set(z)?;
        self.inputs.energy.set(&[energy])?;
        self.inputs.valence.set(&[valence])?;
        self.inputs.mode.set(&[mode as i64])?;
        self.inputs.temperature.set(&[temperature])?;
        Ok(())
    }

    /// Runs the bar graph for bar `index`; `first` starts from the graph's initial state.
    pub(super) fn run_bar(
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
        let mut args = tvec![
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
        let (file, (plan, state)) = match self.plain.as_mut() {
            Some(plain) if self.top_p >= 1.0 => {
                // The plain graph has no `top_p` input.
                args.remove(9);
                (BAR_PLAIN_GRAPH_FILE, plain)
            }
            _ => {
                if self.bar.is_none() {
                    let plan = self.nucleus.get()?;
                    let state = spawn(&plan, BAR_GRAPH_FILE)?;
                    self.bar = Some((plan, state));
                }
                let Some(bar) = self.bar.as_mut() else {
                    return err(format!("{BAR_GRAPH_FILE} is not loaded"));
                };
                (BAR_GRAPH_FILE, bar)
            }
        };
        let mut out = run(state, plan, args, file)?;
        let mut tokens = [0u16; TOKENS_PER_BAR];
        let raw = read_slice::<i64>(&out[0], "tokens")?;
        if raw.len() != TOKENS_PER_BAR {
            return err(format!(
                "{file} wrote {} tokens for a bar, expected {TOKENS_PER_BAR}",
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
                    "{file} wrote token {t} at position {k} of bar {}, outside 0–{}",
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

/// One row of a batch: a phrase's inputs with its mode already chosen.
#[derive(Debug, Clone, Copy)]
pub(super) struct BatchRow<'a> {
    /// The latent.
    pub z: &'a [f32],
    /// Energy, 0–1.
    pub energy: f32,
    /// Valence, 0–1.
    pub valence: f32,
    /// The mode index.
    pub mode: usize,
    /// Temperature (already raised to [`MIN_TEMPERATURE`]).
    pub temperature: f32,
    /// 9 uniforms per bar.
    pub bar_uniforms: &'a [[f32; TOKENS_PER_BAR]],
    /// Locked chord token per bar (empty: none).
    pub forced_chords: &'a [Option<u16>],
    /// Rhythm constraints per bar (empty: all free).
    pub rhythm: &'a [RhythmRow],
}

/// The batched plain bar graph: one call decodes a bar of [`CANDIDATES`] phrases, each row
/// exactly what the plain graph gives it alone.
pub(super) struct BatchRunner {
    plan: Arc<TypedRunnableModel>,
    state: TypedSimpleState,
    meta: ModelMeta,
}

impl BatchRunner {
    pub(super) fn new(graph: &LazyGraph, meta: ModelMeta) -> Result<BatchRunner, ModelError> {
        let plan = graph.get()?;
        Ok(BatchRunner {
            state: spawn(&plan, BAR_CANDIDATES_GRAPH_FILE)?,
            plan,
            meta,
        })
    }

    /// Decodes `bars` bars of every row (exactly [`CANDIDATES`] rows, each with at least
    /// `bars` rows of uniforms, and locks empty or `bars` long).
    pub(super) fn decode(
        &mut self,
        rows: &[BatchRow; CANDIDATES],
        bars: usize,
    ) -> Result<[[[u16; TOKENS_PER_BAR]; MAX_BARS]; CANDIDATES], ModelError> {
        let file = BAR_CANDIDATES_GRAPH_FILE;
        let k = CANDIDATES;
        let (z_dim, hidden) = (self.meta.z_dim, self.meta.hidden);
        let tensor = |shape: &[usize], values: &[f32]| {
            Tensor::from_shape(shape, values).map_err(|e| ModelError(format!("{file}: {e}")))
        };
        let int = |shape: &[usize], values: &[i64]| {
            Tensor::from_shape(shape, values).map_err(|e| ModelError(format!("{file}: {e}")))
        };
        let mut z = Vec::with_capacity(k * z_dim);
        for row in rows {
            if row.z.len() != z_dim {
                return err(format!(
                    "z has {} values, the model needs {z_dim}",
                    row.z.len()
                ));
            }
            z.extend_from_slice(row.z);
        }
        let per_row = |f: &dyn Fn(&BatchRow) -> f32| rows.iter().map(f).collect::<Vec<f32>>();
        let z = TValue::from_const(Arc::new(tensor(&[k, z_dim], &z)?));
        let energy = TValue::from_const(Arc::new(tensor(&[k], &per_row(&|r| r.energy))?));
        let valence = TValue::from_const(Arc::new(tensor(&[k], &per_row(&|r| r.valence))?));
        let temperature = TValue::from_const(Arc::new(tensor(&[k], &per_row(&|r| r.temperature))?));
        let modes: Vec<i64> = rows.iter().map(|r| r.mode as i64).collect();
        let mode = TValue::from_const(Arc::new(int(&[k], &modes)?));
        let mut state = TValue::from_const(Arc::new(tensor(&[k, hidden], &vec![0.0; k * hidden])?));
        let mut out = [[[0u16; TOKENS_PER_BAR]; MAX_BARS]; CANDIDATES];
        // Bar by bar: `b` is the graph's bar index as well as the output row.
        #[allow(clippy::needless_range_loop)]
        for b in 0..bars.min(MAX_BARS) {
            let mut uniforms = Vec::with_capacity(k * TOKENS_PER_BAR);
            let mut forced = Vec::with_capacity(k);
            let mut rhythm = Vec::with_capacity(k * STEPS_PER_CHORD);
            for row in rows {
                let u = row
                    .bar_uniforms
                    .get(b)
                    .ok_or_else(|| ModelError(format!("no uniforms for bar {}", b + 1)))?;
                uniforms.extend_from_slice(u);
                forced.push(
                    row.forced_chords
                        .get(b)
                        .copied()
                        .flatten()
                        .map_or(-1, i64::from),
                );
                let r = row
                    .rhythm
                    .get(b)
                    .copied()
                    .unwrap_or([rhythm::FREE; STEPS_PER_CHORD]);
                rhythm.extend(r.iter().map(|v| i64::from(*v)));
            }
            let args = tvec![
                z.clone(),
                energy.clone(),
                valence.clone(),
                mode.clone(),
                TValue::from_const(Arc::new(int(&[k], &vec![b as i64; k])?)),
                state,
                TValue::from_const(Arc::new(tensor(&[k, TOKENS_PER_BAR], &uniforms)?)),
                temperature.clone(),
                TValue::from_const(Arc::new(int(&[k], &forced)?)),
                TValue::from_const(Arc::new(int(&[k, STEPS_PER_CHORD], &rhythm)?)),
            ];
            let mut result = run(&mut self.state, &self.plan, args, file)?;
            let raw = read_slice::<i64>(&result[0], "tokens")?;
            if raw.len() != k * TOKENS_PER_BAR {
                return err(format!(
                    "{file} wrote {} tokens for a bar, expected {}",
                    raw.len(),
                    k * TOKENS_PER_BAR
                ));
            }
            for (i, row) in raw.chunks(TOKENS_PER_BAR).enumerate() {
                for (pos, (slot, &t)) in out[i][b].iter_mut().zip(row).enumerate() {
                    let vocab = if pos == 0 {
                        tokens::CHORD_VOCAB
                    } else {
                        tokens::MELODY_VOCAB
                    };
                    if !(0..vocab as i64).contains(&t) {
                        return err(format!(
                            "{file} wrote token {t} at position {pos} of bar {}, outside 0–{}",
                            b + 1,
                            vocab - 1
                        ));
                    }
                    *slot = t as u16;
                }
            }
            let Some(next) = result.pop() else {
                return err(format!("{file} gave no state"));
            };
            state = next;
        }
        Ok(out)
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
