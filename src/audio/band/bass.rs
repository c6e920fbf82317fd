//! The bass: one round, warm voice (a softly saturated sine with a little pluck, low-passed),
//! monophonic with legato. Runs on the audio thread; no allocation (the held-key stack is a
//! fixed array).
//!
//! Legato rules:
//! * a note-on while another bass note is held glides (≈ 35 ms) to the new pitch without
//!   retriggering the envelope;
//! * a note-on with nothing held (or while a note rings out after its note-off) retriggers the
//!   envelope from its current level, so it never jumps;
//! * releasing the sounding (newest) key glides back to the most recent key still held; when no
//!   key is held the note releases to silence. Releasing an older held key only forgets it.

use super::dsp::{
    advance, decay_coef, flush, one_pole_coef, sin_turns, soft_clip, Env, OnePole, Stage,
};

/// Held keys remembered for legato; a ninth held key forgets the oldest.
const STACK_LEN: usize = 8;
/// Glide time constant, in seconds.
const GLIDE_TAU_S: f32 = 0.035;
/// Pluck (brief extra saturation at the onset) time constant, in seconds.
const PLUCK_TAU_S: f32 = 0.07;
/// Low-pass cutoff that keeps the bass round, in Hz.
const LOWPASS_HZ: f32 = 700.0;
/// Output gain at velocity 127.
const GAIN: f32 = 0.21;

/// The bass instrument.
#[derive(Debug, Clone)]
pub struct Bass {
    /// Held keys, oldest first; the last one sounds.
    stack: [u8; STACK_LEN],
    /// Number of valid entries in `stack`.
    stack_len: usize,
    /// Oscillator phase, in turns.
    phase: f32,
    /// Current phase increment (turns per sample).
    inc: f32,
    /// Increment the glide approaches.
    target_inc: f32,
    /// Per-sample glide factor (fraction of the distance kept).
    glide_coef: f32,
    /// Amplitude envelope.
    env: Env,
    /// Current velocity gain (smoothed so a legato note changes level without a step).
    vel_gain: f32,
    /// Velocity gain being approached.
    vel_target: f32,
    /// Current pluck amount (decays to 0 after a trigger).
    pluck: f32,
    /// Per-sample pluck decay.
    pluck_coef: f32,
    /// Round-off filter.
    lp: OnePole,
    /// Round-off filter coefficient.
    lp_coef: f32,
    /// Sample rate in Hz.
    fs: f32,
}

/// Phase increment for a MIDI key.
fn key_inc(key: u8, fs: f32) -> f32 {
    440.0 * 2f32.powf((f32::from(key) - 69.0) / 12.0) / fs
}

impl Bass {
    /// A silent bass for a sample rate.
    pub fn new(sample_rate_hz: f32) -> Bass {
        Bass {
            stack: [0; STACK_LEN],
            stack_len: 0,
            phase: 0.0,
            inc: 0.0,
            target_inc: 0.0,
            glide_coef: decay_coef(GLIDE_TAU_S, sample_rate_hz),
            env: Env::idle(),
            vel_gain: 0.0,
            vel_target: 0.0,
            pluck: 0.0,
            pluck_coef: decay_coef(PLUCK_TAU_S, sample_rate_hz),
            lp: OnePole::default(),
            lp_coef: one_pole_coef(LOWPASS_HZ, sample_rate_hz),
            fs: sample_rate_hz,
        }
    }

    /// Silences the bass and forgets held keys.
    pub fn reset(&mut self) {
        *self = Bass::new(self.fs);
    }

    /// Removes `key` from the held stack; returns whether it was there.
    fn forget(&mut self, key: u8) -> bool {
        let held = &self.stack[..self.stack_len.min(STACK_LEN)];
        let Some(i) = held.iter().position(|&k| k == key) else {
            return false;
        };
        self.stack.copy_within(i + 1..self.stack_len, i);
        self.stack_len -= 1;
        true
    }

    /// The newest held key, if any.
    fn top(&self) -> Option<u8> {
        self.stack_len
            .checked_sub(1)
            .and_then(|i| self.stack.get(i).copied())
    }

    /// Starts or glides to a note (see the module docs for the legato rules); returns true.
    pub fn note_on(&mut self, key: u8, velocity: u8) -> bool {
        let legato = self.top().is_some() && self.env.held();
        self.forget(key);
        if self.stack_len == STACK_LEN {
            self.stack.copy_within(1.., 0);
            self.stack_len -= 1;
        }
        if let Some(slot) = self.stack.get_mut(self.stack_len) {
            *slot = key;
            self.stack_len += 1;
        }
        self.target_inc = key_inc(key, self.fs);
        self.vel_target = GAIN * (f32::from(velocity.min(127)) / 127.0).powf(1.3);
        if !legato {
            // Phase stays continuous, so a pitch jump on retrigger is not a click.
            self.inc = self.target_inc;
            self.pluck = 1.0;
            if self.env.stage == Stage::Idle {
                self.vel_gain = self.vel_target;
            }
            self.env.trigger(0.004, 6.0, 0.0, 0.3, self.fs);
        }
        true
    }

    /// Releases a key (see the module docs).
    pub fn note_off(&mut self, key: u8) {
        let was_top = self.top() == Some(key);
        if !self.forget(key) || !was_top {
            return;
        }
        match self.top() {
            Some(prev) => self.target_inc = key_inc(prev, self.fs),
            None => self.env.release(),
        }
    }

    /// Releases the note and forgets held keys.
    pub fn release_all(&mut self) {
        self.stack_len = 0;
        self.env.release();
    }

    /// Whether the bass sounds.
    pub fn is_active(&self) -> bool {
        self.env.stage != Stage::Idle
    }

    /// Writes the next `out.len()` samples (mono).
    pub fn render(&mut self, out: &mut [f32]) {
        out.fill(0.0);
        for o in out.iter_mut() {
            if self.env.stage == Stage::Idle {
                return;
            }
            let e = self.env.next();
            let drive = 1.3 + 1.4 * self.pluck;
            let y = soft_clip(drive * sin_turns(self.phase)) * (1.6 / drive);
            *o = self.lp.lp(y * e * self.vel_gain, self.lp_coef);
            self.pluck = flush(self.pluck * self.pluck_coef);
            self.vel_gain += (self.vel_target - self.vel_gain) * 0.002;
            self.inc = self.target_inc + (self.inc - self.target_inc) * self.glide_coef;
            advance(&mut self.phase, self.inc);
        }
    }
}
