//! Generation policy: what a seed and the knobs ask of the decoder (lengths, key and mode
//! overrides, chord and rhythm locks), and the redraw of degenerate phrases.

use super::draws::Draws;
use super::model::{LazyGraph, Model, ModelMeta, CANDIDATES};
use super::runner::{BatchRow, BatchRunner, DecodeInputs, Decoded, ModeInput, Runner};
use super::{err, rhythm, ModelError, RhythmRow, MAX_REDRAWS, MIN_TEMPERATURE, TOKENS_PER_BAR};
use crate::music::knobs::Knobs;
use crate::music::progression::Mode as PhraseMode;
use crate::music::progression::{
    tokens, Bar, Chord, Mode, Progression, Step, MAX_BARS, STEPS_PER_CHORD,
};
use std::fmt;
use std::sync::Arc;

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
    /// Parameters for the knobs and a seed (nothing locked: the caller locks what it keeps).
    pub fn from_knobs(knobs: &Knobs, seed: u64) -> GenerateParams {
        GenerateParams {
            seed,
            energy: knobs.energy,
            valence: knobs.valence,
            bars: knobs.bars,
            key: knobs.key,
            mode: knobs.mode,
            temperature: knobs.sampling.temperature,
            top_p: knobs.sampling.top_p,
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

    /// Locks each bar that has a chord in `heard` to it (the others keep their lock or stay
    /// free).
    pub fn lock_heard_chords(mut self, heard: &[Option<Chord>; MAX_BARS]) -> GenerateParams {
        for (lock, chord) in self.locked_chords.iter_mut().zip(heard) {
            if let Some(chord) = chord {
                *lock = Some(Some(*chord));
            }
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

impl GenerateParams {
    /// Refuses a length outside 1–[`MAX_BARS`] bars and a key outside 0–11 (the runner checks
    /// the rest).
    fn check_length_and_key(&self) -> Result<(), ModelError> {
        if !(1..=MAX_BARS as u32).contains(&self.bars) {
            return err(format!("a phrase has 1–{MAX_BARS} bars, not {}", self.bars));
        }
        if let Some(key) = self.key.filter(|k| *k > 11) {
            return err(format!("key {key} is outside 0–11"));
        }
        Ok(())
    }
}

/// The locks of a phrase as the graphs take them.
struct Locks {
    /// Locked chord token per bar.
    forced: [Option<u16>; MAX_BARS],
    /// Rhythm constraints per bar (free where unlocked).
    rhythm_rows: [RhythmRow; MAX_BARS],
    /// Whether no chord is locked in the phrase's bars.
    chords_free: bool,
    /// Whether no rhythm is locked in the phrase's bars.
    rhythm_free: bool,
}

impl Locks {
    fn of(params: &GenerateParams) -> Locks {
        let bars = (params.bars as usize).min(MAX_BARS);
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
        Locks {
            forced,
            rhythm_rows,
            chords_free: params.locked_chords[..bars].iter().all(Option::is_none),
            rhythm_free: params.locked_rhythm[..bars].iter().all(Option::is_none),
        }
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

/// Per-generation state owned by one worker thread: tract run states spawned once, reusable
/// inputs and the draws buffer. Make one per thread from a shared [`Model`].
pub struct Generator {
    /// Runs the graphs.
    runner: Runner,
    /// The last seed's draws (buffer reused).
    draws: Draws,
    /// The model's batched bar graph, if it has one.
    candidates_graph: Option<Arc<LazyGraph>>,
    /// Its runner, made on first use.
    batch: Option<BatchRunner>,
}

impl fmt::Debug for Generator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Generator")
            .field("meta", &self.runner.meta)
            .finish_non_exhaustive()
    }
}

impl Generator {
    /// Spawns run states for `model`. Cheap next to loading (no optimisation happens here).
    pub fn new(model: &Model) -> Result<Generator, ModelError> {
        Ok(Generator {
            runner: Runner::new(model)?,
            draws: Draws::new(0, 1, model.meta.z_dim),
            candidates_graph: model.candidates.clone(),
            batch: None,
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
        params.check_length_and_key()?;
        // Energy, valence, temperature and top-p are checked once, by the runner.
        let bars = params.bars as usize;
        self.draws.fill(params.seed, bars, self.runner.meta.z_dim);
        let Locks {
            forced,
            rhythm_rows,
            chords_free,
            rhythm_free,
        } = Locks::of(params);
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

    /// Loads the batched bar graph (the embedded model loads it on first use) and spawns its
    /// run state; nothing to do for a model without it.
    pub fn prepare_candidates(&mut self) -> Result<(), ModelError> {
        if self.batch.is_none() {
            if let Some(graph) = self.candidates_graph.as_ref() {
                self.batch = Some(BatchRunner::new(graph, self.runner.meta)?);
            }
        }
        Ok(())
    }

    /// A phrase's mode: the fixed one, or the mode graph's choice and its distribution.
    fn mode_of(
        &mut self,
        mode: ModeInput,
        z: &[f32],
        energy: f32,
        valence: f32,
        temperature: f32,
    ) -> Result<(PhraseMode, Option<[f32; super::MODE_COUNT]>), ModelError> {
        Ok(match mode {
            ModeInput::Fixed(mode) => (mode, None),
            ModeInput::Sample(u) => {
                let (ix, probs) = self.runner.run_mode(z, energy, valence, temperature, u)?;
                (PhraseMode::ALL[ix], Some(probs))
            }
        })
    }

    /// Whether the model has the batched bar graph.
    pub(super) fn has_batch_graph(&self) -> bool {
        self.candidates_graph.is_some()
    }

    /// What [`Generator::generate_tokens`] gives for each of `seeds` ([`CANDIDATES`] of them),
    /// decoded together by the batched graph (top-p 1): the same draws, mode choice and
    /// redraws per row, so the same tokens.
    pub(super) fn generate_batch(
        &mut self,
        params: &GenerateParams,
        seeds: &[u64],
    ) -> Result<Vec<Generated>, ModelError> {
        if seeds.len() != CANDIDATES {
            return err(format!("{} seeds for {CANDIDATES} candidates", seeds.len()));
        }
        params.check_length_and_key()?;
        self.prepare_candidates()?;
        let bars = params.bars as usize;
        let z_dim = self.runner.meta.z_dim;
        let locks = Locks::of(params);
        let (energy, valence) = (
            params.energy.clamp(0.0, 1.0),
            params.valence.clamp(0.0, 1.0),
        );
        let temperature = params.temperature.max(MIN_TEMPERATURE);
        let mut draws: Vec<Draws> = seeds.iter().map(|&s| Draws::new(s, bars, z_dim)).collect();
        // Each row's mode: fixed, or the mode graph's choice (and its distribution).
        let mut modes: Vec<(PhraseMode, Option<[f32; super::MODE_COUNT]>)> =
            Vec::with_capacity(CANDIDATES);
        for d in &draws {
            let mode = match params.mode {
                Some(mode) => ModeInput::Fixed(mode),
                None => ModeInput::Sample(d.mode_uniform),
            };
            // The single path's checks, for this row's inputs.
            self.runner.check(&DecodeInputs {
                z: &d.z,
                energy,
                valence,
                temperature: params.temperature,
                mode,
                bar_uniforms: &d.bar_uniforms[..bars],
                forced_chords: &locks.forced[..bars],
                top_p: params.top_p,
                rhythm: &locks.rhythm_rows[..bars],
            })?;
            modes.push(self.mode_of(mode, &d.z, energy, valence, temperature)?);
        }
        let mut done: Vec<Option<Generated>> = vec![None; CANDIDATES];
        let mut redraws = [0usize; CANDIDATES];
        let Some(batch) = self.batch.as_mut() else {
            return err("the model has no batched bar graph".to_string());
        };
        while done.iter().any(Option::is_none) {
            let rows: [BatchRow; CANDIDATES] = std::array::from_fn(|i| BatchRow {
                z: &draws[i].z,
                energy,
                valence,
                mode: modes[i].0.index(),
                temperature,
                bar_uniforms: &draws[i].bar_uniforms[..bars],
                forced_chords: &locks.forced[..bars],
                rhythm: &locks.rhythm_rows[..bars],
            });
            let tokens = batch.decode(&rows, bars)?;
            for i in 0..CANDIDATES {
                if done[i].is_some() {
                    continue;
                }
                let rows = &tokens[i][..bars];
                // As alone: after a redraw the mode is fixed, so no distribution is reported.
                let probs = if redraws[i] == 0 { modes[i].1 } else { None };
                if redraws[i] == MAX_REDRAWS
                    || degenerate(rows, locks.chords_free, locks.rhythm_free).is_none()
                {
                    done[i] = Some(Generated {
                        key: params.key.unwrap_or(draws[i].key),
                        decoded: Decoded::from_rows(modes[i].0, probs, rows),
                        redraws: redraws[i],
                    });
                } else {
                    draws[i].redraw_bars();
                    redraws[i] += 1;
                }
            }
        }
        Ok(done.into_iter().flatten().collect())
    }

    /// The draws of the last [`Generator::generate`] call.
    pub fn last_draws(&self) -> &Draws {
        &self.draws
    }

    /// Decodes up to [`CANDIDATES`] phrases from explicit inputs with the batched bar graph,
    /// one call per bar for all of them (what the parity fixture feeds it): each input's mode
    /// graph (unless fixed), then its rows of the batch. Every input must be at top-p 1;
    /// phrases of fewer bars than the longest are decoded further and cut.
    pub fn decode_batch_with(
        &mut self,
        inputs: &[DecodeInputs],
    ) -> Result<Vec<Decoded>, ModelError> {
        if inputs.is_empty() || inputs.len() > CANDIDATES {
            return err(format!(
                "1–{CANDIDATES} phrases per batch, not {}",
                inputs.len()
            ));
        }
        if inputs.iter().any(|i| i.top_p < 1.0) {
            return err("the batched bar graph samples at top-p 1 only".to_string());
        }
        self.prepare_candidates()?;
        let bars = inputs
            .iter()
            .map(|i| i.bar_uniforms.len())
            .max()
            .unwrap_or(1);
        let mut modes = Vec::with_capacity(inputs.len());
        let mut uniforms = Vec::with_capacity(inputs.len());
        for input in inputs {
            self.runner.check(input)?;
            let temperature = input.temperature.max(MIN_TEMPERATURE);
            modes.push(self.mode_of(
                input.mode,
                input.z,
                input.energy,
                input.valence,
                temperature,
            )?);
            let mut rows = input.bar_uniforms.to_vec();
            rows.resize(bars, [0.5; TOKENS_PER_BAR]);
            uniforms.push(rows);
        }
        let Some(batch) = self.batch.as_mut() else {
            return err("the model has no batched bar graph".to_string());
        };
        // Rows beyond the inputs repeat the first.
        let rows: [BatchRow; CANDIDATES] = std::array::from_fn(|r| {
            let i = if r < inputs.len() { r } else { 0 };
            BatchRow {
                z: inputs[i].z,
                energy: inputs[i].energy,
                valence: inputs[i].valence,
                mode: modes[i].0.index(),
                temperature: inputs[i].temperature.max(MIN_TEMPERATURE),
                bar_uniforms: &uniforms[i],
                forced_chords: inputs[i].forced_chords,
                rhythm: inputs[i].rhythm,
            }
        });
        let tokens = batch.decode(&rows, bars)?;
        Ok(inputs
            .iter()
            .enumerate()
            .map(|(i, input)| {
                Decoded::from_rows(
                    modes[i].0,
                    modes[i].1,
                    &tokens[i][..input.bar_uniforms.len()],
                )
            })
            .collect())
    }

    /// Decodes one phrase from explicit inputs: the mode graph once (unless the mode is
    /// fixed), then the bar graph per bar, feeding each bar's `state_out` to the next. This is
    /// what [`Generator::generate`] runs after drawing its random numbers.
    pub fn decode_with(&mut self, inputs: &DecodeInputs) -> Result<Decoded, ModelError> {
        self.runner.decode(inputs)
    }
}
