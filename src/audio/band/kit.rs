//! The kit: synthesised one-shot drums for General MIDI keys 36 kick, 37 side stick, 38 snare,
//! 39 clap, 42 closed hat, 44 pedal hat, 46 open hat, 51 ride, 70 maracas and 82 shaker (other
//! keys are ignored). Each sound is a pitched sine body plus filtered noise and/or a metallic
//! cluster of square waves, softly saturated; the kit bus is low-passed so it sounds dusty.
//! Runs on the audio thread; voices are a fixed array, no allocation.
//!
//! Each sound has three voices: a new hit lets the previous hit ring under it and fades any
//! older one out over 3 ms (three hits of one sound within 3 ms restart the furthest-faded
//! voice outright). Closed and pedal hats choke the open hat (5 ms fade).

use super::dsp::{
    advance, decay_coef, flush, one_pole_coef, sin_turns, soft_clip, OnePole, Rng, Svf, SvfCoefs,
};

/// Number of distinct drum sounds.
const SOUNDS: usize = 10;
/// Voices per sound.
const VOICES_PER_SOUND: usize = 3;
/// Index of the open hat in the sound table (choked by the closed and pedal hats).
const OPEN_HAT: usize = 6;
/// Fade of an older hit when the same sound is struck again, in seconds.
const OVERLAP_FADE_S: f32 = 0.003;
/// Fade of every ringing hit when the kit is damped (the transport stopped), in seconds.
pub const DAMP_FADE_S: f32 = 0.12;
/// Fade of a choked open hat, in seconds.
const CHOKE_FADE_S: f32 = 0.005;
/// A voice whose envelopes are all below this (−80 dB) has ended.
const END_LEVEL: f32 = 1e-4;
/// Kit bus low-pass ("dusty" top end), in Hz.
const BUS_LOWPASS_HZ: f32 = 9_000.0;
/// Frequencies of the metallic square-wave cluster (the classic analog hat set), in Hz.
const METAL_HZ: [f32; 6] = [205.3, 304.4, 369.6, 522.7, 540.0, 800.0];
/// Base seed of the hits' noise generators.
const NOISE_SEED: u32 = 0x00C0_FFEE;

/// Which output of the noise filter a sound uses.
#[derive(Debug, Clone, Copy)]
enum Mode {
    /// Band-pass.
    Bp,
    /// High-pass.
    Hp,
}

/// The recipe of one drum sound.
#[derive(Debug, Clone, Copy)]
struct Recipe {
    /// GM key that plays it.
    key: u8,
    /// Body sine start and end frequency, in Hz (0 level = no body).
    body_hz: (f32, f32),
    /// Pitch-drop time constant, in seconds.
    pitch_tau_s: f32,
    /// Body decay time constant, in seconds.
    body_tau_s: f32,
    /// Body level.
    body_level: f32,
    /// Noise filter output, centre/cutoff in Hz and Q.
    filter: (Mode, f32, f32),
    /// White noise level into the filter.
    noise_level: f32,
    /// Metallic cluster level into the filter, and its frequency scale.
    metal: (f32, f32),
    /// Noise decay time constant, in seconds.
    noise_tau_s: f32,
    /// Clap bursts: count, spacing in seconds, burst decay time constant in seconds.
    bursts: (u8, f32, f32),
    /// Linear fade-in time, in seconds.
    attack_s: f32,
    /// Saturation drive (≥ 1).
    drive: f32,
    /// Pan, −1 (left) ..= 1 (right).
    pan: f32,
    /// Output gain at velocity 127.
    gain: f32,
}

/// Shorthand for the sound table.
const fn recipe(key: u8, body: (f32, f32, f32, f32, f32), filter: (Mode, f32, f32)) -> Recipe {
    Recipe {
        key,
        body_hz: (body.0, body.1),
        pitch_tau_s: body.2,
        body_tau_s: body.3,
        body_level: body.4,
        filter,
        noise_level: 1.0,
        metal: (0.0, 1.0),
        noise_tau_s: 0.05,
        bursts: (1, 0.01, 0.01),
        attack_s: 0.0005,
        drive: 1.5,
        pan: 0.0,
        gain: 0.2,
    }
}

/// No body sine.
const NO_BODY: (f32, f32, f32, f32, f32) = (100.0, 100.0, 0.1, 0.001, 0.0);

/// The ten sounds, in a fixed order (index = sound). One row each: kept as a table.
#[rustfmt::skip]
const RECIPES: [Recipe; SOUNDS] = [
    Recipe { noise_level: 0.25, noise_tau_s: 0.004, drive: 2.2, gain: 0.64, ..recipe(36, (150.0, 48.0, 0.035, 0.24, 1.0), (Mode::Bp, 3_500.0, 0.8)) },
    Recipe { noise_level: 0.8, noise_tau_s: 0.016, gain: 0.28, ..recipe(37, (880.0, 760.0, 0.01, 0.022, 0.6), (Mode::Bp, 2_200.0, 2.5)) },
    Recipe { noise_level: 0.9, noise_tau_s: 0.11, drive: 1.8, gain: 0.40, ..recipe(38, (205.0, 178.0, 0.02, 0.07, 0.7), (Mode::Bp, 3_200.0, 0.8)) },
    Recipe { noise_level: 1.3, noise_tau_s: 0.11, bursts: (4, 0.009, 0.005), gain: 0.35, pan: -0.15, ..recipe(39, NO_BODY, (Mode::Bp, 1_300.0, 1.8)) },
    Recipe { noise_level: 0.5, metal: (0.6, 1.0), noise_tau_s: 0.03, gain: 0.22, pan: 0.2, ..recipe(42, NO_BODY, (Mode::Hp, 7_000.0, 0.9)) },
    Recipe { noise_level: 0.5, metal: (0.6, 1.0), noise_tau_s: 0.05, gain: 0.15, pan: 0.2, ..recipe(44, NO_BODY, (Mode::Hp, 6_000.0, 0.9)) },
    Recipe { noise_level: 0.5, metal: (0.6, 1.0), noise_tau_s: 0.3, gain: 0.18, pan: 0.2, ..recipe(46, NO_BODY, (Mode::Hp, 6_500.0, 0.9)) },
    Recipe { noise_level: 0.3, metal: (1.0, 1.8), noise_tau_s: 0.6, gain: 0.12, pan: -0.25, ..recipe(51, (2_800.0, 2_800.0, 1.0, 0.2, 0.15), (Mode::Bp, 5_000.0, 0.7)) },
    Recipe { noise_tau_s: 0.035, attack_s: 0.004, gain: 0.18, pan: 0.3, ..recipe(70, NO_BODY, (Mode::Hp, 6_000.0, 0.8)) },
    Recipe { noise_tau_s: 0.06, attack_s: 0.012, gain: 0.16, pan: 0.35, ..recipe(82, NO_BODY, (Mode::Bp, 7_000.0, 0.9)) },
];

/// A recipe turned into per-sample coefficients for one sample rate (computed in `new`).
#[derive(Debug, Clone, Copy, Default)]
struct Tables {
    /// Body increments at the start and end of the pitch drop (turns per sample).
    body_inc: (f32, f32),
    /// Per-sample pitch-drop, body and noise decay multipliers.
    pitch_coef: f32,
    /// See `pitch_coef`.
    body_coef: f32,
    /// See `pitch_coef`.
    noise_coef: f32,
    /// Per-sample decay of one clap burst.
    burst_coef: f32,
    /// Samples between clap bursts.
    burst_spacing: u32,
    /// Noise filter.
    svf: SvfCoefs,
    /// Metallic cluster increments (turns per sample).
    metal_inc: [f32; 6],
    /// Fade-in increment per sample.
    attack_inc: f32,
    /// Left and right gains.
    pan: (f32, f32),
    /// 1 / drive.
    inv_drive: f32,
    /// Samples until every envelope of a hit has decayed below [`END_LEVEL`].
    life_samples: u32,
}

impl Tables {
    /// Coefficients for `r` at `fs`.
    fn new(r: &Recipe, fs: f32) -> Tables {
        let mut metal_inc = [0.0; 6];
        for (inc, hz) in metal_inc.iter_mut().zip(METAL_HZ) {
            *inc = hz * r.metal.1 / fs;
        }
        let life = |tau_s: f32| (END_LEVEL.ln() * -tau_s * fs).ceil();
        let bursts_s = f32::from(r.bursts.0.saturating_sub(1)) * r.bursts.1;
        let body_life = if r.body_level > 0.0 {
            life(r.body_tau_s)
        } else {
            0.0
        };
        let noise_life = (bursts_s * fs).ceil() + life(r.noise_tau_s);
        Tables {
            inv_drive: 1.0 / r.drive.max(1.0),
            life_samples: body_life.max(noise_life).clamp(1.0, 1e9) as u32,
            body_inc: (r.body_hz.0 / fs, r.body_hz.1 / fs),
            pitch_coef: decay_coef(r.pitch_tau_s, fs),
            body_coef: decay_coef(r.body_tau_s, fs),
            noise_coef: decay_coef(r.noise_tau_s, fs),
            burst_coef: decay_coef(r.bursts.2, fs),
            burst_spacing: (r.bursts.1 * fs).max(1.0) as u32,
            svf: SvfCoefs::new(r.filter.1, r.filter.2, fs),
            metal_inc,
            attack_inc: 1.0 / (r.attack_s * fs).max(1.0),
            pan: ((1.0 - r.pan).sqrt(), (1.0 + r.pan).sqrt()),
        }
    }
}

/// One sounding hit.
#[derive(Debug, Clone, Copy)]
struct Hit {
    /// Whether it sounds.
    active: bool,
    /// Strike order (larger = newer).
    serial: u64,
    /// Velocity gain.
    gain: f32,
    /// Fade-in ramp, 0..=1.
    ramp: f32,
    /// Fade-out multiplier (1 unless choked or overlapped).
    fade: f32,
    /// Fade-out decrement per sample (0 = not fading).
    fade_dec: f32,
    /// Body phase and increment.
    body_phase: f32,
    /// See `body_phase`.
    body_inc: f32,
    /// Body envelope.
    body_env: f32,
    /// Noise envelope.
    noise_env: f32,
    /// Clap bursts still to come.
    bursts_left: u8,
    /// Samples until the next burst.
    burst_timer: u32,
    /// Noise filter state.
    svf: Svf,
    /// Metallic cluster phases.
    metal_phase: [f32; 6],
    /// Samples until the hit ends (its envelopes have decayed, or its fade-out is done).
    left: u32,
    /// This hit's own noise (seeded from the strike count, so voices rendered one after the
    /// other draw the same numbers however a span is split).
    rng: Rng,
}

impl Hit {
    /// A silent hit.
    const IDLE: Hit = Hit {
        active: false,
        serial: 0,
        gain: 0.0,
        ramp: 0.0,
        fade: 0.0,
        fade_dec: 0.0,
        body_phase: 0.0,
        body_inc: 0.0,
        body_env: 0.0,
        noise_env: 0.0,
        bursts_left: 0,
        burst_timer: 0,
        svf: Svf::ZERO,
        metal_phase: [0.0; 6],
        left: 0,
        rng: Rng::new(NOISE_SEED),
    };

    /// Starts a fade-out over `fade_samples` (no-op if already fading faster).
    fn fade_out(&mut self, fade_samples: f32) {
        if self.active && self.fade_dec == 0.0 {
            let n = fade_samples.max(1.0).ceil();
            self.fade_dec = 1.0 / n;
            self.left = self.left.min(n as u32);
        }
    }

    /// Adds one hit of sound `r` into `l`/`r`.
    fn render(&mut self, rc: &Recipe, t: &Tables, out_l: &mut [f32], out_r: &mut [f32]) {
        let n = (self.left as usize).min(out_l.len()).min(out_r.len());
        for (ol, or) in out_l[..n].iter_mut().zip(out_r[..n].iter_mut()) {
            self.fade = (self.fade - self.fade_dec).max(0.0);
            self.ramp = (self.ramp + t.attack_inc).min(1.0);
            let mut y = 0.0;
            if rc.body_level > 0.0 {
                y += rc.body_level * self.body_env * sin_turns(self.body_phase);
                advance(&mut self.body_phase, self.body_inc);
                self.body_inc = t.body_inc.1 + (self.body_inc - t.body_inc.1) * t.pitch_coef;
                self.body_env = flush(self.body_env * t.body_coef);
            }
            let mut src = rc.noise_level * self.rng.bipolar();
            if rc.metal.0 > 0.0 {
                src += rc.metal.0 * self.metal();
                self.advance_metal(t);
            }
            let f = self.svf.tick(src, &t.svf);
            let filtered = match rc.filter.0 {
                Mode::Bp => f.bp,
                Mode::Hp => f.hp,
            };
            y += filtered * self.noise_env;
            self.noise_envelope(t);
            let y = soft_clip(y * self.ramp * self.fade * self.gain * rc.drive) * t.inv_drive;
            *ol += y * t.pan.0;
            *or += y * t.pan.1;
        }
        self.left -= n as u32;
        self.active = self.left > 0;
    }

    /// The metallic cluster: six square waves (aliasing is part of the lo-fi charm).
    #[inline]
    fn metal(&mut self) -> f32 {
        let mut s = 0.0;
        for p in &mut self.metal_phase {
            s += if *p < 0.5 { 1.0 } else { -1.0 };
        }
        s * (1.0 / 6.0)
    }

    /// Advances the noise envelope, re-striking it for each clap burst.
    fn noise_envelope(&mut self, t: &Tables) {
        if self.bursts_left > 0 {
            self.noise_env = flush(self.noise_env * t.burst_coef);
            self.burst_timer = self.burst_timer.saturating_sub(1);
            if self.burst_timer == 0 {
                self.noise_env = 1.0;
                self.bursts_left -= 1;
                self.burst_timer = t.burst_spacing;
            }
        } else {
            self.noise_env = flush(self.noise_env * t.noise_coef);
        }
    }

    /// Advances the metallic phases by one sample.
    fn advance_metal(&mut self, t: &Tables) {
        for (p, inc) in self.metal_phase.iter_mut().zip(t.metal_inc) {
            advance(p, inc);
        }
    }
}

/// The drum kit.
#[derive(Debug, Clone)]
pub struct Kit {
    /// Hits per sound.
    hits: [[Hit; VOICES_PER_SOUND]; SOUNDS],
    /// Per-sound coefficients.
    tables: [Tables; SOUNDS],
    /// Strike counter.
    serial: u64,
    /// Bus low-pass state, left and right.
    bus_lp: (OnePole, OnePole),
    /// Bus low-pass coefficient.
    bus_coef: f32,
    /// Sample rate in Hz.
    fs: f32,
}

impl Kit {
    /// A silent kit for a sample rate.
    pub fn new(sample_rate_hz: f32) -> Kit {
        let mut tables = [Tables::default(); SOUNDS];
        for (t, r) in tables.iter_mut().zip(RECIPES.iter()) {
            *t = Tables::new(r, sample_rate_hz);
        }
        Kit {
            hits: [[Hit::IDLE; VOICES_PER_SOUND]; SOUNDS],
            tables,
            serial: 0,
            bus_lp: (OnePole::default(), OnePole::default()),
            bus_coef: one_pole_coef(BUS_LOWPASS_HZ, sample_rate_hz),
            fs: sample_rate_hz,
        }
    }

    /// Silences the kit and restores the noise seed.
    pub fn reset(&mut self) {
        self.hits = [[Hit::IDLE; VOICES_PER_SOUND]; SOUNDS];
        self.serial = 0;
        self.bus_lp = (OnePole::default(), OnePole::default());
    }

    /// Strikes the sound for a GM key; returns false (and does nothing) for unknown keys.
    pub fn note_on(&mut self, key: u8, velocity: u8) -> bool {
        let Some((sound, rc)) = RECIPES.iter().enumerate().find(|(_, r)| r.key == key) else {
            return false;
        };
        if key == 42 || key == 44 {
            let fade = CHOKE_FADE_S * self.fs;
            self.hits[OPEN_HAT]
                .iter_mut()
                .for_each(|h| h.fade_out(fade));
        }
        self.serial += 1;
        let (Some(hits), Some(t)) = (self.hits.get_mut(sound), self.tables.get(sound)) else {
            return false;
        };
        let newest = hits.iter().filter(|h| h.active).map(|h| h.serial).max();
        let fade = OVERLAP_FADE_S * self.fs;
        hits.iter_mut()
            .filter(|h| Some(h.serial) != newest)
            .for_each(|h| h.fade_out(fade));
        // A free voice, else the older fading one that is furthest gone.
        let pick = hits
            .iter_mut()
            .filter(|h| !h.active || Some(h.serial) != newest)
            .min_by(|a, b| {
                (a.active, a.fade)
                    .partial_cmp(&(b.active, b.fade))
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
        if let Some(h) = pick {
            *h = Hit {
                active: true,
                serial: self.serial,
                gain: rc.gain * (f32::from(velocity.min(127)) / 127.0).powf(1.4),
                fade: 1.0,
                body_inc: t.body_inc.0,
                body_env: if rc.body_level > 0.0 { 1.0 } else { 0.0 },
                noise_env: 1.0,
                bursts_left: rc.bursts.0.saturating_sub(1),
                burst_timer: t.burst_spacing,
                left: t.life_samples,
                rng: Rng::new(NOISE_SEED ^ (self.serial as u32).wrapping_mul(0x9E37_79B9)),
                ..Hit::IDLE
            };
        }
        true
    }

    /// Fades every ringing hit out over [`DAMP_FADE_S`] (a cymbal or open hat keeps ringing
    /// for seconds otherwise): what a stopped transport does, like a drummer's hand on it.
    pub fn damp(&mut self) {
        let fade = DAMP_FADE_S * self.fs;
        self.hits
            .iter_mut()
            .flatten()
            .for_each(|h| h.fade_out(fade));
    }

    /// Whether any hit sounds.
    pub fn is_active(&self) -> bool {
        self.hits.iter().flatten().any(|h| h.active)
    }

    /// Writes the next `l.len()` samples.
    pub fn render(&mut self, l: &mut [f32], r: &mut [f32]) {
        l.fill(0.0);
        r.fill(0.0);
        if !self.is_active() && self.bus_lp.0.y == 0.0 && self.bus_lp.1.y == 0.0 {
            return;
        }
        for ((hits, t), rc) in self
            .hits
            .iter_mut()
            .zip(self.tables.iter())
            .zip(RECIPES.iter())
        {
            for h in hits.iter_mut().filter(|h| h.active) {
                h.render(rc, t, l, r);
            }
        }
        for (a, b) in l.iter_mut().zip(r.iter_mut()) {
            *a = self.bus_lp.0.lp(*a, self.bus_coef);
            *b = self.bus_lp.1.lp(*b, self.bus_coef);
        }
    }
}
