//! The melody: a six-voice FM instrument that sits above the keys, with three characters
//! ([`MelodyVoice`]): a soft mallet, a bell-like electric piano and a muted lead with delayed
//! vibrato. Runs on the audio thread; no allocation.

use super::dsp::Lfo;
use super::voice::{FmPatch, VoicePool, LANES};
use super::{MelodyVoice, CHUNK};

/// Polyphony of the melody (it is mostly monophonic; six lets releases overlap).
pub const MELODY_VOICES: usize = 6;
/// Vibrato rate in Hz.
const VIBRATO_HZ: f32 = 5.2;

/// Marimba-like: a ratio-4 modulator gives the wooden knock; decays even while held.
const SOFT_MALLET: FmPatch = FmPatch {
    mod_ratio: 4.0,
    index_base: 0.05,
    index_vel: 0.35,
    index_sustain: 0.0,
    index_tau_s: 0.05,
    tine_ratio: 1.0,
    tine_index: 0.0,
    tine_tau_s: 0.01,
    attack_s: 0.0015,
    hold_tau_s: 0.5,
    sustain: 0.0,
    release_t60_s: 0.35,
    lp_ratio: 3.0,
    lp_vel_ratio: 4.0,
    vibrato_cents: 0.0,
    vibrato_delay_s: 1.0,
    pan_per_octave: 0.1,
    pan_max: 0.2,
    gain: 0.275,
};

/// Bell electric piano: a ratio-3 modulator plus a tine, longer ring.
const BELL_KEYS: FmPatch = FmPatch {
    mod_ratio: 3.0,
    index_base: 0.06,
    index_vel: 0.3,
    index_sustain: 0.25,
    index_tau_s: 0.35,
    tine_ratio: 14.0,
    tine_index: 0.05,
    tine_tau_s: 0.015,
    attack_s: 0.002,
    hold_tau_s: 1.6,
    sustain: 0.0,
    release_t60_s: 0.6,
    lp_ratio: 4.0,
    lp_vel_ratio: 6.0,
    vibrato_cents: 0.0,
    vibrato_delay_s: 1.0,
    pan_per_octave: 0.1,
    pan_max: 0.2,
    gain: 0.205,
};

/// Muted lead: ratio-1 FM at a steady index (saw-like), heavily low-passed, sustained, with
/// vibrato fading in.
const MUTED_LEAD: FmPatch = FmPatch {
    mod_ratio: 1.0,
    index_base: 0.12,
    index_vel: 0.08,
    index_sustain: 1.0,
    index_tau_s: 1.0,
    tine_ratio: 1.0,
    tine_index: 0.0,
    tine_tau_s: 0.01,
    attack_s: 0.012,
    hold_tau_s: 4.0,
    sustain: 0.6,
    release_t60_s: 0.25,
    lp_ratio: 1.5,
    lp_vel_ratio: 1.5,
    vibrato_cents: 14.0,
    vibrato_delay_s: 0.35,
    pan_per_octave: 0.0,
    pan_max: 0.0,
    gain: 0.175,
};

/// The timbre for a melody character.
fn patch(voice: MelodyVoice) -> &'static FmPatch {
    match voice {
        MelodyVoice::SoftMallet => &SOFT_MALLET,
        MelodyVoice::BellKeys => &BELL_KEYS,
        MelodyVoice::MutedLead => &MUTED_LEAD,
    }
}

/// The melody instrument.
#[derive(Debug, Clone)]
pub struct Melody {
    /// The voices.
    pool: VoicePool<{ MELODY_VOICES.div_ceil(LANES) }>,
    /// Vibrato LFO (advances per sample while the band renders).
    vibrato: Lfo,
    /// The LFO's values for the current chunk, shared by all voices.
    lfo: [f32; CHUNK],
}

impl Melody {
    /// A silent melody for a sample rate.
    pub fn new(sample_rate_hz: f32) -> Melody {
        Melody {
            pool: VoicePool::new(sample_rate_hz, MELODY_VOICES),
            vibrato: Lfo::new(VIBRATO_HZ, sample_rate_hz),
            lfo: [0.0; CHUNK],
        }
    }

    /// Silences everything and rewinds the LFO.
    pub fn reset(&mut self) {
        self.pool.reset();
        self.vibrato.reset();
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

    /// Writes the next `l.len()` (≤ [`CHUNK`]) samples with the chosen character. A voice
    /// switch applies to notes started from now on.
    pub fn render(&mut self, voice: MelodyVoice, l: &mut [f32], r: &mut [f32]) {
        l.fill(0.0);
        r.fill(0.0);
        let len = l.len().min(CHUNK);
        if !self.pool.is_active() {
            for _ in 0..len {
                self.vibrato.next();
            }
            return;
        }
        for s in &mut self.lfo[..len] {
            *s = self.vibrato.next();
        }
        self.pool.render(patch(voice), &self.lfo[..len], l, r);
    }
}
