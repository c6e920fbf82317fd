//! The keys: a warm tine electric piano (two-operator FM, ratio-1 modulator for the body and a
//! ratio-14 "tine" for the ping), 24 voices, velocity → brightness, per-key pan and a gentle
//! auto-pan. Runs on the audio thread; no allocation.

use super::dsp::Lfo;
use super::voice::{FmPatch, VoicePool, LANES};
use super::CHUNK;

/// Polyphony of the keys.
pub const KEYS_VOICES: usize = 24;
/// No vibrato on the keys.
const NO_VIBRATO: [f32; CHUNK] = [0.0; CHUNK];
/// Auto-pan rate in Hz (a slow stereo vibrato, like a suitcase piano's).
const AUTOPAN_HZ: f32 = 3.2;
/// Auto-pan depth (fraction of gain moved between the sides).
const AUTOPAN_DEPTH: f32 = 0.18;

/// The electric piano timbre.
pub const EP: FmPatch = FmPatch {
    mod_ratio: 1.0,
    index_base: 0.08,
    index_vel: 0.42,
    index_sustain: 0.35,
    index_tau_s: 0.45,
    tine_ratio: 14.0,
    tine_index: 0.07,
    tine_tau_s: 0.012,
    attack_s: 0.002,
    hold_tau_s: 3.0,
    sustain: 0.0,
    release_t60_s: 0.55,
    lp_ratio: 2.5,
    lp_vel_ratio: 7.0,
    vibrato_cents: 0.0,
    vibrato_delay_s: 1.0,
    pan_per_octave: 0.22,
    pan_max: 0.45,
    gain: 0.145,
};

/// The keys instrument.
#[derive(Debug, Clone)]
pub struct Keys {
    /// The voices.
    pool: VoicePool<{ KEYS_VOICES / LANES }>,
    /// Auto-pan LFO (advances per sample even when silent, so its phase never depends on how
    /// a span was split).
    lfo: Lfo,
}

impl Keys {
    /// Silent keys for a sample rate.
    pub fn new(sample_rate_hz: f32) -> Keys {
        Keys {
            pool: VoicePool::new(sample_rate_hz, KEYS_VOICES),
            lfo: Lfo::new(AUTOPAN_HZ, sample_rate_hz),
        }
    }

    /// Silences everything and rewinds the LFO.
    pub fn reset(&mut self) {
        self.pool.reset();
        self.lfo.reset();
    }

    /// Starts a note; always sounds (returns true).
    pub fn note_on(&mut self, key: u8, velocity: u8) -> bool {
        self.pool.note_on(key, velocity);
        true
    }

    /// Releases a note.
    pub fn note_off(&mut self, key: u8) {
        self.pool.note_off(key);
    }

    /// Releases every note.
    pub fn release_all(&mut self) {
        self.pool.release_all();
    }

    /// Whether anything sounds.
    pub fn is_active(&self) -> bool {
        self.pool.is_active()
    }

    /// Writes the next `l.len()` samples.
    pub fn render(&mut self, l: &mut [f32], r: &mut [f32]) {
        l.fill(0.0);
        r.fill(0.0);
        if !self.pool.is_active() {
            for _ in 0..l.len() {
                self.lfo.next();
            }
            return;
        }
        let len = l.len().min(CHUNK);
        self.pool.render(&EP, &NO_VIBRATO[..len], l, r);
        for (a, b) in l.iter_mut().zip(r.iter_mut()) {
            let p = AUTOPAN_DEPTH * self.lfo.next();
            *a *= 1.0 + p;
            *b *= 1.0 - p;
        }
    }
}
