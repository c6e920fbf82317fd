//! The polyphonic two-operator FM voices shared by the keys and the melody, and the fixed pool
//! that allocates and steals them. Runs on the audio thread: the pool is a fixed array,
//! note-on/off and rendering never allocate.
//!
//! Voices are processed four at a time (struct-of-arrays "groups" whose per-sample maths is
//! branch-free, so the compiler vectorises it). Every envelope stage has a known length in
//! samples, counted down per voice; a group renders in segments between stage changes, so the
//! per-sample maths is identical however a span is split.
//!
//! Stealing: a note-on takes a free voice; else the quietest released voice; else the oldest
//! held one. The victim fades linearly to zero over [`STEAL_FADE_S`] and only then starts the
//! new note (so a steal delays that note by at most 4 ms and never jumps).

use super::dsp::{decay_coef, one_pole_coef, sin_turns, t60_coef};

/// Length of the fade a stolen voice makes before retriggering, in seconds.
pub const STEAL_FADE_S: f32 = 0.004;
/// Voices per group: one SSE vector, so a group costs the same however many lanes sound.
pub const LANES: usize = 4;
/// One cent as a frequency ratio minus one (for vibrato depth).
const CENT: f32 = 0.000_577_8;
/// A voice whose envelope decays below this (−80 dB) has ended.
const END_LEVEL: f32 = 1e-4;
/// Below this a tine or index difference is flushed (denormal guard).
const TINY: f32 = 1e-6;

/// One quantity for each lane of a group.
type Lanes = [f32; LANES];

/// A timbre for the FM voices: carrier at the note's frequency, phase-modulated by a modulator
/// at `mod_ratio` and an optional fast-decaying "tine" modulator at `tine_ratio`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FmPatch {
    /// Modulator frequency / note frequency.
    pub mod_ratio: f32,
    /// Modulation index (in turns) at velocity 0.
    pub index_base: f32,
    /// Added to the index at velocity 127 (scaled by velocity²): velocity → brightness.
    pub index_vel: f32,
    /// The index decays to this fraction of its peak while the note sounds.
    pub index_sustain: f32,
    /// Time constant of that index decay, in seconds.
    pub index_tau_s: f32,
    /// Tine modulator frequency / note frequency.
    pub tine_ratio: f32,
    /// Tine index at velocity 127 (scaled by velocity); 0 = no tine.
    pub tine_index: f32,
    /// Tine decay time constant, in seconds.
    pub tine_tau_s: f32,
    /// Linear attack time, in seconds.
    pub attack_s: f32,
    /// Decay time constant while held at MIDI key 60, in seconds (lower keys ring longer).
    pub hold_tau_s: f32,
    /// Level the held note decays toward (0 = decays away like a struck instrument).
    pub sustain: f32,
    /// Time to fall 60 dB after note-off, in seconds.
    pub release_t60_s: f32,
    /// One-pole low-pass cutoff as a multiple of the note frequency at velocity 0 …
    pub lp_ratio: f32,
    /// … plus this multiple at velocity 127.
    pub lp_vel_ratio: f32,
    /// Vibrato depth in cents (0 = none), reached `vibrato_delay_s` after the onset.
    pub vibrato_cents: f32,
    /// Time for the vibrato to fade in, in seconds.
    pub vibrato_delay_s: f32,
    /// Pan per octave away from middle C (−1..=1 after clamping to ±`pan_max`).
    pub pan_per_octave: f32,
    /// Largest pan magnitude.
    pub pan_max: f32,
    /// Output gain at velocity 127.
    pub gain: f32,
}

/// Envelope stage of a voice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Silent and free.
    Idle,
    /// Linear rise to 1.
    Attack,
    /// Held: exponential decay toward the patch's sustain.
    Hold,
    /// Exponential fall after note-off.
    Release,
    /// Linear fade to 0 before a stolen voice retriggers.
    Steal,
}

/// A note waiting for its voice (free, or finishing a steal fade).
#[derive(Debug, Clone, Copy)]
struct Pending {
    /// MIDI key.
    key: u8,
    /// MIDI velocity, 1..=127.
    velocity: u8,
    /// Allocation order (larger = newer).
    serial: u64,
}

/// Control data of one voice (the audio-rate state lives in its [`Group`] lane).
#[derive(Debug, Clone, Copy)]
struct Lane {
    /// Key of the sounding note.
    key: u8,
    /// Allocation order of the sounding note, for stealing the oldest.
    serial: u64,
    /// Envelope stage.
    stage: Stage,
    /// Samples until the stage ends.
    left: u32,
    /// Note waiting for this voice.
    pending: Option<Pending>,
    /// Hold-stage envelope multiplier and addend, and its length in samples.
    hold: (f32, f32, u32),
    /// Release multiplier.
    release_coef: f32,
}

impl Lane {
    /// A free voice.
    const IDLE: Lane = Lane {
        key: 0,
        serial: 0,
        stage: Stage::Idle,
        left: u32::MAX,
        pending: None,
        hold: (1.0, 0.0, u32::MAX),
        release_coef: 0.0,
    };

    /// Whether the voice neither sounds nor waits to.
    fn free(&self) -> bool {
        self.stage == Stage::Idle && self.pending.is_none()
    }

    /// Whether the note is held.
    fn held(&self) -> bool {
        matches!(self.stage, Stage::Attack | Stage::Hold)
    }
}

/// Audio-rate state of a group of voices, one lane each. Phases are in turns, increments in turns
/// per sample.
#[derive(Debug, Clone, Copy, Default)]
struct Group {
    /// Envelope level; each sample `level = level·mul + add`.
    level: Lanes,
    /// Envelope multiplier of the current stage.
    mul: Lanes,
    /// Envelope addend of the current stage.
    add: Lanes,
    /// Carrier phase.
    phase_c: Lanes,
    /// Carrier increment.
    inc_c: Lanes,
    /// Modulator phase.
    phase_m: Lanes,
    /// Modulator increment.
    inc_m: Lanes,
    /// Tine phase.
    phase_t: Lanes,
    /// Tine increment.
    inc_t: Lanes,
    /// Modulation index.
    index: Lanes,
    /// Index the decay approaches.
    index_sus: Lanes,
    /// Per-sample index decay.
    index_coef: Lanes,
    /// Tine index.
    tine: Lanes,
    /// Per-sample tine decay.
    tine_coef: Lanes,
    /// Tone filter state.
    lp: Lanes,
    /// Tone filter coefficient.
    lp_coef: Lanes,
    /// Left gain (velocity × patch gain × pan).
    gain_l: Lanes,
    /// Right gain.
    gain_r: Lanes,
    /// Vibrato depth (ratio), rising to `vib_max`.
    vib: Lanes,
    /// Vibrato depth increment per sample.
    vib_inc: Lanes,
    /// Full vibrato depth.
    vib_max: Lanes,
}

impl Group {
    /// Adds the group's voices into `l`/`r`; `vibrato` holds the shared vibrato LFO per sample.
    /// `TINE` = false skips the tine operator (only valid while every tine index is 0).
    #[inline]
    fn render<const TINE: bool>(&mut self, vibrato: &[f32], l: &mut [f32], r: &mut [f32]) {
        for ((ol, or), &lfo) in l.iter_mut().zip(r.iter_mut()).zip(vibrato) {
            let (mut yl, mut yr) = ([0.0; LANES], [0.0; LANES]);
            for i in 0..LANES {
                self.level[i] = self.level[i] * self.mul[i] + self.add[i];
                let mut m = self.index[i] * sin_turns(self.phase_m[i]);
                if TINE {
                    m += self.tine[i] * sin_turns(self.phase_t[i]);
                    let t = self.tine[i] * self.tine_coef[i];
                    self.tine[i] = if t < TINY { 0.0 } else { t };
                    self.phase_t[i] = wrap(self.phase_t[i] + self.inc_t[i]);
                }
                let s = sin_turns(self.phase_c[i] + m) * self.level[i];
                self.lp[i] += self.lp_coef[i] * (s - self.lp[i]);
                yl[i] = self.lp[i] * self.gain_l[i];
                yr[i] = self.lp[i] * self.gain_r[i];
                let d = (self.index[i] - self.index_sus[i]) * self.index_coef[i];
                self.index[i] = self.index_sus[i] + if d.abs() < TINY { 0.0 } else { d };
                let vib = self.vib[i] + self.vib_inc[i];
                self.vib[i] = if vib < self.vib_max[i] {
                    vib
                } else {
                    self.vib_max[i]
                };
                let pitch = 1.0 + self.vib[i] * lfo;
                self.phase_c[i] = wrap(self.phase_c[i] + self.inc_c[i] * pitch);
                self.phase_m[i] = wrap(self.phase_m[i] + self.inc_m[i] * pitch);
            }
            *ol += sum(&yl);
            *or += sum(&yr);
        }
    }
}

/// Wraps a phase that has just been advanced into [0, 1).
#[inline]
fn wrap(p: f32) -> f32 {
    if p >= 1.0 {
        p - 1.0
    } else {
        p
    }
}

/// Sum of the lanes in a fixed (tree) order.
#[inline]
fn sum(x: &Lanes) -> f32 {
    (x[0] + x[1]) + (x[2] + x[3])
}

/// Samples for a level to decay from `from` to [`END_LEVEL`] with multiplier `coef` (≥ 1).
fn decay_samples(from: f32, coef: f32) -> u32 {
    if from <= END_LEVEL || coef <= 0.0 || coef >= 1.0 {
        return if coef >= 1.0 { u32::MAX } else { 1 };
    }
    ((END_LEVEL / from).ln() / coef.ln())
        .ceil()
        .clamp(1.0, u32::MAX as f32) as u32
}

/// A fixed pool of `G` groups of [`LANES`] FM voices, of which the first `limit` are used.
#[derive(Debug, Clone)]
pub struct VoicePool<const G: usize> {
    /// Audio-rate state.
    groups: [Group; G],
    /// Control data, per group and lane.
    lanes: [[Lane; LANES]; G],
    /// Voices in use (≤ G·LANES).
    limit: usize,
    /// Next allocation serial.
    serial: u64,
    /// Sample rate in Hz.
    fs: f32,
}

impl<const G: usize> VoicePool<G> {
    /// A silent pool using `limit` voices.
    pub fn new(sample_rate_hz: f32, limit: usize) -> Self {
        VoicePool {
            groups: [Group::default(); G],
            lanes: [[Lane::IDLE; LANES]; G],
            limit: limit.min(G * LANES),
            serial: 0,
            fs: sample_rate_hz,
        }
    }

    /// Silences everything at once (reset only: this may jump).
    pub fn reset(&mut self) {
        self.groups = [Group::default(); G];
        self.lanes = [[Lane::IDLE; LANES]; G];
        self.serial = 0;
    }

    /// The used voices as (group, lane) pairs.
    fn slots(&self) -> impl Iterator<Item = (usize, usize)> {
        (0..self.limit).map(|v| (v / LANES, v % LANES))
    }

    /// Control data of a voice.
    fn lane(&mut self, (g, i): (usize, usize)) -> Option<&mut Lane> {
        self.lanes.get_mut(g).and_then(|l| l.get_mut(i))
    }

    /// Starts a note; a held note on the same key is released first (it rings out).
    pub fn note_on(&mut self, key: u8, velocity: u8) {
        self.note_off(key);
        self.serial += 1;
        let note = Pending {
            key,
            velocity,
            serial: self.serial,
        };
        let lanes = &self.lanes;
        let free = self.slots().find(|&(g, i)| lanes[g][i].free());
        let slot = free.or_else(|| self.victim());
        let Some(slot) = slot else {
            return;
        };
        if free.is_none() {
            self.enter_steal(slot);
        }
        if let Some(lane) = self.lane(slot) {
            lane.pending = Some(note);
        }
    }

    /// The voice to steal: the quietest released one, else the oldest held one, else (all are
    /// already fading) the one whose waiting note is oldest.
    fn victim(&self) -> Option<(usize, usize)> {
        let rank = |(g, i): (usize, usize)| -> (u8, f32) {
            let lane = &self.lanes[g][i];
            match lane.stage {
                Stage::Release => (0, self.groups[g].level[i]),
                Stage::Steal => (2, lane.pending.map_or(0.0, |p| p.serial as f32)),
                _ => (1, lane.serial as f32),
            }
        };
        self.slots().min_by(|&a, &b| {
            rank(a)
                .partial_cmp(&rank(b))
                .unwrap_or(std::cmp::Ordering::Equal)
        })
    }

    /// Releases held notes on `key` and cancels a note on `key` still waiting for its voice.
    pub fn note_off(&mut self, key: u8) {
        for slot in self.slots() {
            let Some(lane) = self.lane(slot) else {
                continue;
            };
            if lane.pending.is_some_and(|p| p.key == key) {
                lane.pending = None;
            }
            if lane.key == key && lane.held() {
                self.enter_release(slot);
            }
        }
    }

    /// Releases everything (natural release) and cancels waiting notes.
    pub fn release_all(&mut self) {
        for slot in self.slots() {
            let Some(lane) = self.lane(slot) else {
                continue;
            };
            lane.pending = None;
            if lane.held() {
                self.enter_release(slot);
            }
        }
    }

    /// Whether any voice sounds or waits to.
    pub fn is_active(&self) -> bool {
        self.lanes.iter().flatten().any(|l| !l.free())
    }

    /// Sets a voice's envelope stage.
    fn set_stage(
        &mut self,
        (g, i): (usize, usize),
        stage: Stage,
        left: u32,
        level: f32,
        mul: f32,
        add: f32,
    ) {
        if let (Some(group), Some(lane)) = (
            self.groups.get_mut(g),
            self.lanes.get_mut(g).and_then(|l| l.get_mut(i)),
        ) {
            lane.stage = stage;
            lane.left = left.max(1);
            if let (Some(lv), Some(m), Some(a)) = (
                group.level.get_mut(i),
                group.mul.get_mut(i),
                group.add.get_mut(i),
            ) {
                (*lv, *m, *a) = (level, mul, add);
            }
        }
    }

    /// The current envelope level of a voice.
    fn level(&self, (g, i): (usize, usize)) -> f32 {
        self.groups
            .get(g)
            .and_then(|gr| gr.level.get(i))
            .copied()
            .unwrap_or(0.0)
    }

    /// Note-off: exponential release from the current level.
    fn enter_release(&mut self, slot: (usize, usize)) {
        let level = self.level(slot);
        let coef = self.lane(slot).map_or(0.0, |l| l.release_coef);
        self.set_stage(
            slot,
            Stage::Release,
            decay_samples(level, coef),
            level,
            coef,
            0.0,
        );
    }

    /// Steal: a linear fade from the current level to zero.
    fn enter_steal(&mut self, slot: (usize, usize)) {
        if self.lane(slot).is_some_and(|l| l.stage == Stage::Steal) {
            return;
        }
        let level = self.level(slot);
        let n = (STEAL_FADE_S * self.fs).ceil().max(1.0);
        self.set_stage(slot, Stage::Steal, n as u32, level, 1.0, -level / n);
    }

    /// Starts a waiting note on a voice (called from `render`, so the patch is the one in force).
    fn start(&mut self, slot: (usize, usize), patch: &FmPatch, note: Pending) {
        let fs = self.fs;
        let v = f32::from(note.velocity.min(127)) / 127.0;
        let freq_hz = 440.0 * 2f32.powf((f32::from(note.key) - 69.0) / 12.0);
        let octaves = (f32::from(note.key) - 60.0) / 12.0;
        let pan = (octaves * patch.pan_per_octave).clamp(-patch.pan_max, patch.pan_max);
        let amp = patch.gain * v.powf(1.5);
        // Sidebands above ~0.4·fs would alias: fade the tine out for high notes.
        let tine_room = (1.0 - patch.tine_ratio * freq_hz / (0.4 * fs)).clamp(0.0, 1.0);
        let index = patch.index_base + patch.index_vel * v * v;
        let (g, i) = slot;
        if let Some(gr) = self.groups.get_mut(g) {
            let set = |arr: &mut Lanes, x: f32| {
                if let Some(a) = arr.get_mut(i) {
                    *a = x;
                }
            };
            set(&mut gr.phase_c, 0.0);
            set(&mut gr.phase_m, 0.0);
            set(&mut gr.phase_t, 0.0);
            set(&mut gr.inc_c, freq_hz / fs);
            set(&mut gr.inc_m, patch.mod_ratio * freq_hz / fs);
            set(&mut gr.inc_t, patch.tine_ratio * freq_hz / fs);
            set(&mut gr.index, index);
            set(&mut gr.index_sus, index * patch.index_sustain);
            set(&mut gr.index_coef, decay_coef(patch.index_tau_s, fs));
            set(&mut gr.tine, patch.tine_index * v * tine_room);
            set(&mut gr.tine_coef, decay_coef(patch.tine_tau_s, fs));
            set(&mut gr.lp, 0.0);
            set(
                &mut gr.lp_coef,
                one_pole_coef(freq_hz * (patch.lp_ratio + patch.lp_vel_ratio * v), fs),
            );
            set(&mut gr.gain_l, amp * (1.0 - pan).sqrt());
            set(&mut gr.gain_r, amp * (1.0 + pan).sqrt());
            set(&mut gr.vib, 0.0);
            set(&mut gr.vib_max, patch.vibrato_cents * CENT);
            set(
                &mut gr.vib_inc,
                patch.vibrato_cents * CENT / (patch.vibrato_delay_s * fs).max(1.0),
            );
        }
        // Lower keys ring longer while held.
        let hold_coef = decay_coef(patch.hold_tau_s * 2f32.powf(-octaves / 3.0), fs);
        let hold_samples = if patch.sustain < END_LEVEL {
            decay_samples(1.0, hold_coef)
        } else {
            u32::MAX
        };
        let attack_samples = (patch.attack_s * fs).round().max(1.0);
        if let Some(lane) = self.lane(slot) {
            *lane = Lane {
                key: note.key,
                serial: note.serial,
                hold: (hold_coef, patch.sustain * (1.0 - hold_coef), hold_samples),
                release_coef: t60_coef(patch.release_t60_s, fs),
                ..*lane
            };
        }
        self.set_stage(
            slot,
            Stage::Attack,
            attack_samples as u32,
            0.0,
            1.0,
            1.0 / attack_samples,
        );
    }

    /// Frees a voice and zeroes the states that would otherwise keep decaying toward denormal
    /// numbers while the group's other lanes play.
    fn silence(&mut self, (g, i): (usize, usize)) {
        self.set_stage((g, i), Stage::Idle, u32::MAX, 0.0, 0.0, 0.0);
        if let Some(gr) = self.groups.get_mut(g) {
            for arr in [&mut gr.lp, &mut gr.tine, &mut gr.index, &mut gr.index_sus] {
                if let Some(x) = arr.get_mut(i) {
                    *x = 0.0;
                }
            }
        }
    }

    /// Moves voices whose stage has run out to the next stage, and starts waiting notes on
    /// voices that have become free.
    fn advance_stages(&mut self, g: usize, patch: &FmPatch) {
        for i in 0..LANES {
            let slot = (g, i);
            let Some(&lane) = self.lanes.get(g).and_then(|l| l.get(i)) else {
                continue;
            };
            if lane.left == 0 {
                match lane.stage {
                    Stage::Attack => {
                        let (mul, add, n) = lane.hold;
                        self.set_stage(slot, Stage::Hold, n, 1.0, mul, add);
                    }
                    _ => self.silence(slot),
                }
            }
            let Some(lane) = self.lane(slot) else {
                continue;
            };
            if lane.stage == Stage::Idle {
                if let Some(note) = lane.pending.take() {
                    self.start(slot, patch, note);
                }
            }
        }
    }

    /// Adds every active voice into `l`/`r` with `patch`; `vibrato` holds the shared vibrato
    /// LFO per sample (same length as `l`).
    pub fn render(&mut self, patch: &FmPatch, vibrato: &[f32], l: &mut [f32], r: &mut [f32]) {
        let len = l.len().min(r.len()).min(vibrato.len());
        for g in 0..G {
            let mut pos = 0;
            while pos < len {
                self.advance_stages(g, patch);
                let (Some(lanes), Some(group)) = (self.lanes.get_mut(g), self.groups.get_mut(g))
                else {
                    break;
                };
                if lanes.iter().all(Lane::free) {
                    break;
                }
                let seg = lanes
                    .iter()
                    .map(|l| l.left)
                    .min()
                    .unwrap_or(1)
                    .min((len - pos) as u32) as usize;
                let span = pos..pos + seg;
                if group.tine.iter().any(|&t| t > 0.0) {
                    group.render::<true>(
                        &vibrato[span.clone()],
                        &mut l[span.clone()],
                        &mut r[span],
                    );
                } else {
                    group.render::<false>(
                        &vibrato[span.clone()],
                        &mut l[span.clone()],
                        &mut r[span],
                    );
                }
                lanes
                    .iter_mut()
                    .for_each(|l| l.left = l.left.saturating_sub(seg as u32));
                pos += seg;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FS: f32 = 48_000.0;
    /// A pure sine (no modulation, no filter): its output slope is known exactly.
    const SINE: FmPatch = FmPatch {
        mod_ratio: 1.0,
        index_base: 0.0,
        index_vel: 0.0,
        index_sustain: 0.0,
        index_tau_s: 1.0,
        tine_ratio: 14.0,
        tine_index: 0.0,
        tine_tau_s: 0.01,
        attack_s: 0.005,
        hold_tau_s: 100.0,
        sustain: 1.0,
        release_t60_s: 0.3,
        lp_ratio: 1e6,
        lp_vel_ratio: 0.0,
        vibrato_cents: 0.0,
        vibrato_delay_s: 1.0,
        pan_per_octave: 0.0,
        pan_max: 0.0,
        gain: 0.25,
    };

    fn key_hz(key: u8) -> f32 {
        440.0 * 2f32.powf((f32::from(key) - 69.0) / 12.0)
    }

    /// Four voices, sixteen steals and releases at awkward times. With a pure sine each voice
    /// moves at most `gain·2π·f/fs` per sample, and an envelope ramp adds at most
    /// `gain/ramp_samples` (the 5 ms attack or the 4 ms steal fade; both never overlap in one
    /// voice). The sum of these over the sounding voices is the click bound. Removing the fade
    /// (an instant cut at up to `gain` = 0.25) breaks it by ~10×.
    #[test]
    fn steal_and_release_stay_under_slope_bound() {
        let mut pool = VoicePool::<1>::new(FS, 4);
        let keys: [u8; 8] = [45, 52, 57, 60, 64, 47, 55, 59];
        let ramp = (STEAL_FADE_S.min(SINE.attack_s) * FS).floor();
        let bound = keys
            .iter()
            .map(|&k| 2.0 * std::f32::consts::PI * key_hz(k) / FS)
            .sum::<f32>()
            * SINE.gain
            + 2.0 * SINE.gain / ramp;
        let (mut prev, mut worst) = (0.0f32, 0.0f32);
        let mut l = [0.0f32; 331];
        let mut r = [0.0f32; 331];
        for step in 0..40 {
            let key = keys[step % keys.len()];
            if step % 5 == 4 {
                pool.note_off(keys[(step + 3) % keys.len()]);
            } else {
                pool.note_on(key, 127);
            }
            l.fill(0.0);
            r.fill(0.0);
            pool.render(&SINE, &[0.0; 331], &mut l, &mut r);
            for &x in &l {
                worst = worst.max((x - prev).abs());
                prev = x;
            }
        }
        assert!(worst <= bound, "step {worst} > bound {bound}");
        assert!(worst > 0.1 * bound, "test lost its teeth: {worst}");
    }
}
