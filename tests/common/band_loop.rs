//! Shared by the tests, the bench and the examples (included with `#[path]`): the demo loop
//! (85 BPM boom-bap: a held 4–5 note chord and bass root per bar, eighth-note melody, kick on 1
//! and 3-and, snare on 2 and 4, eighth closed hats, an open hat at the end of bar 4) and a
//! driver that plays timed events into a [`Band`] sample-accurately, like the plugin does.
#![allow(dead_code)]

use lofi_loom::audio::band::{Band, Instrument, InstrumentSettings, MelodyVoice, SoundSettings};

/// Sample rate of the demo, in Hz.
pub const FS: f32 = 48_000.0;
/// Tempo of the demo, in BPM.
pub const BPM: f64 = 85.0;

/// One thing the plugin does to the band between renders.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ev {
    /// Note-on (instrument, key, velocity).
    On(Instrument, u8, u8),
    /// Note-off (instrument, key).
    Off(Instrument, u8),
    /// Transport starts or stops.
    Play(bool),
    /// Release everything.
    ReleaseAll,
}

/// Events at sample positions, sorted (note-offs before note-ons on the same sample).
pub type Timeline = Vec<(u64, Ev)>;

/// Every instrument and the master at +6 dB, every texture stage at its maximum: the loudest,
/// most processed sound the parameters allow.
pub fn maxed() -> SoundSettings {
    let loud = InstrumentSettings {
        on: true,
        level_db: 6.0,
    };
    SoundSettings {
        keys: loud,
        melody: loud,
        bass: loud,
        kit: loud,
        melody_voice: MelodyVoice::BellKeys,
        tone: 1.0,
        wobble: 1.0,
        drive: 1.0,
        dust: 1.0,
        crush: 1.0,
        space: 1.0,
        master_db: 6.0,
    }
}

/// Length of one 4/4 bar in samples.
pub fn bar_samples(fs: f32) -> f64 {
    4.0 * 60.0 / BPM * f64::from(fs)
}

/// Chord per bar of the 4-bar cycle (Fmaj9, Em7, Dm9, G13 rootless), bass root per bar.
const CHORDS: [&[u8]; 4] = [
    &[53, 57, 60, 64, 67],
    &[52, 55, 59, 62],
    &[50, 53, 57, 60, 64],
    &[53, 57, 59, 64],
];
/// Bass root per bar.
const ROOTS: [u8; 4] = [41, 40, 38, 43];
/// Melody eighths per bar (0 = rest).
const MELODY: [[u8; 8]; 4] = [
    [72, 0, 69, 67, 69, 0, 72, 74],
    [71, 0, 67, 64, 67, 0, 71, 0],
    [69, 72, 0, 74, 72, 69, 0, 65],
    [67, 0, 71, 74, 0, 76, 74, 71],
];

/// The demo loop for `bars` bars, with velocities around 80 (Energy ≈ 0.5).
pub fn demo_loop(bars: usize, fs: f32) -> Timeline {
    let bar = bar_samples(fs);
    let eighth = bar / 8.0;
    let at = |b: usize, e: f64| (b as f64 * bar + e * eighth).round() as u64;
    let mut ev: Timeline = vec![(0, Ev::Play(true))];
    for b in 0..bars {
        let c = b % 4;
        for &k in CHORDS[c] {
            ev.push((at(b, 0.0), Ev::On(Instrument::Keys, k, 78)));
            ev.push((at(b + 1, 0.0), Ev::Off(Instrument::Keys, k)));
        }
        ev.push((at(b, 0.0), Ev::On(Instrument::Bass, ROOTS[c], 84)));
        ev.push((at(b + 1, 0.0), Ev::Off(Instrument::Bass, ROOTS[c])));
        for (i, &k) in MELODY[c].iter().enumerate().filter(|(_, &k)| k > 0) {
            ev.push((at(b, i as f64), Ev::On(Instrument::Melody, k, 82)));
            ev.push((at(b, i as f64 + 0.9), Ev::Off(Instrument::Melody, k)));
        }
        for i in 0..8 {
            let t = at(b, i as f64);
            if i == 0 || i == 5 {
                ev.push((t, Ev::On(Instrument::Kit, 36, 100)));
            }
            if i == 2 || i == 6 {
                ev.push((t, Ev::On(Instrument::Kit, 38, 92)));
            }
            let open = c == 3 && i == 7;
            let hat = if open {
                (46, 70)
            } else {
                (42, if i % 2 == 0 { 66 } else { 54 })
            };
            ev.push((t, Ev::On(Instrument::Kit, hat.0, hat.1)));
        }
    }
    sort(&mut ev);
    ev
}

/// Sorts events by time, note-offs first on a shared sample.
pub fn sort(ev: &mut Timeline) {
    ev.sort_by_key(|&(t, e)| (t, !matches!(e, Ev::Off(..))));
}

/// Applies one event.
pub fn apply(band: &mut Band, e: Ev) {
    match e {
        Ev::On(i, k, v) => band.note_on(i, k, v),
        Ev::Off(i, k) => band.note_off(i, k),
        Ev::Play(p) => band.set_playing(p),
        Ev::ReleaseAll => band.release_all(),
    }
}

/// Renders `total` samples, applying events on their samples; spans between events are
/// further cut by `block` (which may return 0: an empty render is made then).
pub fn render(
    band: &mut Band,
    settings: &SoundSettings,
    events: &[(u64, Ev)],
    total: usize,
    block: &mut dyn FnMut() -> usize,
) -> (Vec<f32>, Vec<f32>) {
    let (mut l, mut r) = (vec![0.0; total], vec![0.0; total]);
    let (mut pos, mut next) = (0usize, 0usize);
    while pos < total {
        while next < events.len() && events[next].0 as usize <= pos {
            apply(band, events[next].1);
            next += 1;
        }
        let event_at = events
            .get(next)
            .map_or(total, |e| (e.0 as usize).min(total));
        let end = (pos + block()).min(event_at).min(total);
        band.render(settings, &mut l[pos..end], &mut r[pos..end]);
        pos = end;
    }
    (l, r)
}

/// Renders in one call per span between events.
pub fn render_whole(
    band: &mut Band,
    settings: &SoundSettings,
    events: &[(u64, Ev)],
    total: usize,
) -> (Vec<f32>, Vec<f32>) {
    render(band, settings, events, total, &mut || usize::MAX / 2)
}

/// Tiny deterministic generator for test choices.
pub struct TestRng(pub u64);

impl TestRng {
    /// Next value in 0..n.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// Largest absolute sample of both channels.
pub fn peak(l: &[f32], r: &[f32]) -> f32 {
    l.iter().chain(r).fold(0.0f32, |m, x| m.max(x.abs()))
}

/// Mean of each channel.
pub fn dc(l: &[f32], r: &[f32]) -> (f64, f64) {
    let mean = |x: &[f32]| x.iter().map(|&v| f64::from(v)).sum::<f64>() / x.len().max(1) as f64;
    (mean(l), mean(r))
}

/// Integrated loudness (EBU R128) of a stereo render, in LUFS.
pub fn lufs(l: &[f32], r: &[f32], fs: f32) -> f64 {
    let mut m = ebur128::EbuR128::new(2, fs as u32, ebur128::Mode::I).expect("ebur128");
    m.add_frames_planar_f32(&[l, r]).expect("frames");
    m.loudness_global().expect("loudness")
}

/// The last sample index whose level exceeds `threshold`, if any.
pub fn last_above(l: &[f32], r: &[f32], threshold: f32) -> Option<usize> {
    (0..l.len())
        .rev()
        .find(|&i| l[i].abs() > threshold || r[i].abs() > threshold)
}
