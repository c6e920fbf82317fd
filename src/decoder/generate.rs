//! Generation policy: what a seed and the knobs ask of the decoder (lengths, key and mode
//! overrides, chord and rhythm locks), and the redraw of degenerate phrases.

use super::draws::Draws;
use super::model::{Model, ModelMeta};
use super::runner::{DecodeInputs, Decoded, ModeInput, Runner};
use super::{err, rhythm, ModelError, RhythmRow, MAX_REDRAWS, TOKENS_PER_BAR};
use crate::music::knobs::Knobs;
use crate::music::progression::{
    tokens, Bar, Chord, Mode, Progression, Step, MAX_BARS, STEPS_PER_CHORD,
};
use std::fmt;

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
        // Energy, valence, temperature and top-p are checked once, by the runner.
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
