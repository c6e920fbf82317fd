//! The built-in band plays exactly the note events the engine sends to the host, at the same
//! sample offsets: a run through the engine (a phrase on four channels with a drum map other
//! than General MIDI, chasing, a seek, a stop and a restart, Thru input with retriggers, the
//! pedal and a key shared with the sequencer's chords, Follow: Live, random block sizes, a
//! final release) is recorded — the MIDI the host receives and the audio — and the recorded
//! MIDI alone, played into a fresh [`Band`] at the same samples, gives the same audio bit for
//! bit.
//!
//! The replay hears the host's stream the way the engine routes it:
//! * a channel plays the instrument of the phrase's part on it (chords 0 → keys, bass 1,
//!   melody 2, drums 9 → kit); Thru's channels (0 and 3 here) play the keys. Thru is kept
//!   off the bass, melody and drum channels: there the host's one stream would merge notes
//!   of two instruments the band keeps apart;
//! * drum keys go through the kit map to the kit's General MIDI keys (a key that stands for
//!   no drum sound is sent to the host, not played);
//! * the keys are one instrument for every channel: a key is released when the last channel
//!   holding it on the host's stream lets go;
//! * the transport's state at each block start, and on a stop the band's release (which spares
//!   the keys Thru notes hold, as the engine documents) — the only things the band hears that
//!   are not note events.

// A test that cannot go on should stop at once, with a message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/band_loop.rs"]
mod common;

use common::{peak, TestRng};
use lofi_loom::audio::band::{Band, Instrument, SoundSettings, DEFAULT_SETTINGS};
use lofi_loom::audio::engine::{Engine, InputBlock, SoundBlock};
use lofi_loom::audio::follow::FollowMode;
use lofi_loom::audio::input::{InputEvent, NoteInput, Source};
use lofi_loom::audio::sequencer::{MidiEvent, SequencerOutput};
use lofi_loom::audio::sim::SimTransport;
use lofi_loom::music::drums::KitMap;
use lofi_loom::music::phrase::{Note, Part, Phrase};

/// Sample rate, in Hz.
const FS: f32 = 48_000.0;
/// Tempo, in BPM (a beat is 24 000 samples).
const BPM: f64 = 120.0;
/// Samples the transport plays before the seek.
const SEEK_AT: u64 = 130_000;
/// Where the seek lands, in beats.
const SEEK_TO_BEATS: f64 = 5.5;
/// Sample of the stop.
const STOP_AT: u64 = 250_000;
/// Sample of the restart.
const RESTART_AT: u64 = 290_000;
/// Sample of the final release (what `reset` asks for).
const RELEASE_AT: u64 = 420_000;
/// Samples in the whole run (the release and the tails after it).
const TOTAL: u64 = 480_000;
/// The drums' channel.
const DRUMS_CH: u8 = 9;
/// The drum part's key map (not General MIDI, so the engine's translation is exercised).
const KIT: KitMap = KitMap::Chromatic;

/// A two-bar phrase: chords on channel 0, bass on 1, melody on 2, drums on 9 (Chromatic keys,
/// one of which, 50, stands for no drum sound).
fn phrase() -> Box<Phrase> {
    let mut p = Phrase::new(2);
    let mut add = |start, len, key, channel, part| {
        p.push(Note {
            start_beats: start,
            len_beats: len,
            key,
            velocity: 88,
            channel,
            part,
        });
    };
    for bar in [0.0, 4.0] {
        add(bar, 4.0, 60, 0, Part::Chords);
        add(bar, 4.0, 64, 0, Part::Chords);
        add(bar + 2.0, 2.0, 67, 0, Part::Chords);
        add(bar, 1.5, 36, 1, Part::Bass);
        add(bar + 2.0, 2.0, 43, 1, Part::Bass);
        add(bar + 0.5, 1.0, 72, 2, Part::Melody);
        add(bar + 2.25, 1.25, 76, 2, Part::Melody);
        for beat in 0..4 {
            let b = bar + f64::from(beat);
            let kick_or_snare = if beat % 2 == 0 { 36 } else { 38 };
            add(b, 0.25, kick_or_snare, DRUMS_CH, Part::Drums);
            add(b + 0.5, 0.25, 40, DRUMS_CH, Part::Drums); // closed hat (GM 42)
        }
        add(bar + 3.5, 0.5, 42, DRUMS_CH, Part::Drums); // open hat (GM 46)
        add(bar + 1.5, 0.5, 50, DRUMS_CH, Part::Drums); // no drum sound
    }
    p.finish();
    Box::new(p)
}

/// A note-on of the input.
fn on(channel: u8, key: u8, velocity: u8) -> InputEvent {
    InputEvent::NoteOn {
        timing: 0,
        channel,
        key,
        velocity,
    }
}

/// A note-off of the input.
fn off(channel: u8, key: u8) -> InputEvent {
    InputEvent::NoteOff {
        timing: 0,
        channel: Some(channel),
        key: Some(key),
    }
}

/// The pedal of channel 3.
fn pedal(down: bool) -> InputEvent {
    InputEvent::Sustain {
        timing: 0,
        channel: 3,
        down,
    }
}

/// The input, at run samples, in order.
fn input() -> Vec<(u64, InputEvent)> {
    let mut v = vec![
        // Key 60 of the sequencer's chords (channel 0): the output retriggers it.
        (10_000, on(0, 60, 100)),
        // Struck again while it sounds: the input table retriggers it.
        (20_000, on(0, 60, 70)),
        // Key 64 of the chords on another channel: one built-in key, held by both.
        (30_000, on(3, 64, 90)),
        (50_000, off(0, 60)),
        (60_000, on(3, 67, 80)), // held across the seek, the stop and the restart
        (70_000, pedal(true)),
        (80_000, off(3, 64)),     // the pedal keeps it…
        (140_000, pedal(false)),  // … until it lifts, after the seek
        (200_000, on(0, 72, 95)), // held across the stop
        (200_000, on(0, 72, 60)), // retriggered on the same sample
        (300_000, off(0, 72)),
        (330_000, on(0, 64, 85)), // the chords' key again, after the restart
        (360_000, on(0, 64, 85)),
        (390_000, off(0, 64)),
    ];
    // A few random notes on Thru's channels (some held into the final release).
    let mut rng = TestRng(0x005e_ed0f_10f1);
    for _ in 0..24 {
        let at = 1 + rng.below(RELEASE_AT - 1);
        let channel = if rng.below(2) == 0 { 0 } else { 3 };
        let key = 55 + rng.below(20) as u8;
        let e = if rng.below(3) == 0 {
            off(channel, key)
        } else {
            on(channel, key, 1 + rng.below(127) as u8)
        };
        v.push((at, e));
    }
    v.sort_by_key(|e| e.0);
    v
}

/// A note event the host received: run sample, the source the engine sent it from, the event.
type Sent = (u64, Source, MidiEvent);

/// The host of one block: the input due in it, and what comes out.
struct Io<'a> {
    /// This block's input events (at run samples), in order.
    input: &'a [(u64, InputEvent)],
    /// The next one to hand over.
    next: usize,
    /// The block's first run sample.
    start: u64,
    /// What the host received.
    sent: &'a mut Vec<Sent>,
}

impl NoteInput for Io<'_> {
    fn next_input(&mut self) -> Option<InputEvent> {
        let (at, e) = self.input.get(self.next)?;
        self.next += 1;
        Some(e.at((at - self.start) as u32))
    }
}

impl SequencerOutput for Io<'_> {
    fn note(&mut self, _e: MidiEvent) {
        unreachable!("the engine sends every event with its source");
    }

    fn note_from(&mut self, source: Source, e: MidiEvent) {
        self.sent
            .push((self.start + u64::from(e.timing), source, e));
    }

    fn retire(&mut self, _phrase: Box<Phrase>) {
        unreachable!("nothing is swapped");
    }
}

/// Phrases queued before the run go nowhere.
struct Sink;

impl SequencerOutput for Sink {
    fn note(&mut self, _e: MidiEvent) {}
    fn retire(&mut self, _phrase: Box<Phrase>) {}
}

/// What the engine did in one run.
struct Run {
    /// The MIDI the host received.
    sent: Vec<Sent>,
    /// Each block's first run sample and whether the transport played in it.
    blocks: Vec<(u64, bool)>,
    /// The audio, left and right.
    audio: (Vec<f32>, Vec<f32>),
}

/// Runs the scenario through the engine in random blocks (1–8192 samples) cut at the seek,
/// the stop, the restart and the release.
fn run_engine(settings: &SoundSettings, seed: u64) -> Run {
    let mut engine = Engine::new();
    engine.prepare(FS);
    engine.sequencer_mut().set_chase(true);
    engine.sequencer_mut().queue(phrase(), &mut Sink);
    let mut t = SimTransport::new(f64::from(FS), BPM);
    t.playing = true;
    let sound = SoundBlock {
        built_in: true,
        settings: *settings,
        kit: KIT,
    };
    let block_input = InputBlock {
        thru: true,
        follow: FollowMode::Live,
        phrase_bars: 2,
    };
    let input = input();
    let mut rng = TestRng(seed);
    let (mut left, mut right) = (vec![0.0f32; TOTAL as usize], vec![0.0f32; TOTAL as usize]);
    let mut sent = Vec::new();
    let mut blocks = Vec::new();
    let mut done = 0u64;
    while done < TOTAL {
        match done {
            SEEK_AT => t.seek_beats(SEEK_TO_BEATS),
            STOP_AT => t.playing = false,
            RESTART_AT => t.playing = true,
            RELEASE_AT => engine.request_release(),
            _ => {}
        }
        let cut = [SEEK_AT, STOP_AT, RESTART_AT, RELEASE_AT, TOTAL]
            .into_iter()
            .find(|&c| c > done)
            .unwrap_or(TOTAL);
        let len = match rng.below(4) {
            0 => 1 + rng.below(16),
            1 | 2 => 1 + rng.below(1024),
            _ => 1 + rng.below(8192),
        }
        .min(cut - done);
        let first = input.partition_point(|e| e.0 < done);
        let last = input.partition_point(|e| e.0 < done + len);
        let mut io = Io {
            input: &input[first..last],
            next: 0,
            start: done,
            sent: &mut sent,
        };
        let span = done as usize..(done + len) as usize;
        blocks.push((done, t.playing));
        engine.process_with_input(
            &t.snapshot(),
            &sound,
            &block_input,
            &mut left[span.clone()],
            &mut right[span],
            &mut io,
        );
        t.advance(len as u32);
        done += len;
    }
    Run {
        sent,
        blocks,
        audio: (left, right),
    }
}

/// The instrument a channel of the host's stream plays (see the module docs).
fn instrument_of(channel: u8) -> Instrument {
    match channel {
        1 => Instrument::Bass,
        2 => Instrument::Melody,
        DRUMS_CH => Instrument::Kit,
        _ => Instrument::Keys,
    }
}

/// Plays the recorded MIDI into a fresh band at the recorded samples (see the module docs).
fn replay(run: &Run, settings: &SoundSettings) -> (Vec<f32>, Vec<f32>) {
    let mut band = Band::new(FS);
    let (mut left, mut right) = (vec![0.0f32; TOTAL as usize], vec![0.0f32; TOTAL as usize]);
    // Which source's note-on holds each channel's key on the host's stream.
    let mut held: [[Option<Source>; 128]; 16] = [[None; 128]; 16];
    let mut playing = None;
    let (mut rendered, mut next_event) = (0usize, 0usize);
    let mut render_to = |band: &mut Band, to: usize, rendered: &mut usize| {
        band.render(
            settings,
            &mut left[*rendered..to],
            &mut right[*rendered..to],
        );
        *rendered = to;
    };
    for (b, &(start, plays)) in run.blocks.iter().enumerate() {
        let end = run.blocks.get(b + 1).map_or(TOTAL, |n| n.0);
        render_to(&mut band, start as usize, &mut rendered);
        if playing != Some(plays) {
            band.set_playing(plays);
            if playing == Some(true) {
                let mut thru_keys = 0u128;
                for channel in &held {
                    for (k, s) in channel.iter().enumerate() {
                        if *s == Some(Source::Thru) {
                            thru_keys |= 1 << k;
                        }
                    }
                }
                band.release_all_but_keys(thru_keys);
            }
            playing = Some(plays);
        }
        while let Some(&(at, source, e)) = run.sent.get(next_event).filter(|s| s.0 < end) {
            next_event += 1;
            render_to(&mut band, at as usize, &mut rendered);
            let (ch, k) = (usize::from(e.channel), usize::from(e.key));
            let was = held[ch][k];
            held[ch][k] = if e.on { Some(source) } else { None };
            let instrument = instrument_of(e.channel);
            let key = match instrument {
                Instrument::Kit => KIT.sound(e.key).map(|s| KitMap::GeneralMidi.key(s)),
                _ => Some(e.key),
            };
            let Some(key) = key else {
                continue;
            };
            if e.on {
                band.note_on(instrument, key, e.velocity);
            } else if was.is_some() {
                let still_held = instrument == Instrument::Keys
                    && (0..16).any(|c| {
                        instrument_of(c as u8) == Instrument::Keys && held[c][k].is_some()
                    });
                if !still_held {
                    band.note_off(instrument, key);
                }
            }
        }
    }
    render_to(&mut band, TOTAL as usize, &mut rendered);
    assert_eq!(next_event, run.sent.len(), "an event outside the run");
    (left, right)
}

/// Asserts two renders are bit-identical, naming the first differing sample.
fn assert_same(a: &[f32], b: &[f32], what: &str) {
    assert_eq!(a.len(), b.len());
    if let Some(i) = (0..a.len()).find(|&i| a[i].to_bits() != b[i].to_bits()) {
        panic!(
            "{what}: first difference at sample {i}: {} (engine) vs {} (replay)",
            a[i], b[i]
        );
    }
}

/// Whether the host received `key` on `channel` ended and started again on one sample, from
/// `source`.
fn has_retrigger(sent: &[Sent], source: Source, channel: u8, key: u8) -> bool {
    sent.windows(2).any(|w| {
        let ((t0, s0, a), (t1, s1, b)) = (w[0], w[1]);
        t0 == t1
            && s0 == source
            && s1 == source
            && !a.on
            && b.on
            && (a.channel, a.key) == (channel, key)
            && (b.channel, b.key) == (channel, key)
    })
}

/// The scenario of the module docs, at the default sound and with every texture stage high,
/// replayed from the host's MIDI: the same audio, bit for bit.
#[test]
fn the_band_plays_exactly_what_the_host_receives() {
    let maxed_texture = SoundSettings {
        tone: 0.8,
        wobble: 1.0,
        drive: 1.0,
        dust: 1.0,
        crush: 0.6,
        space: 1.0,
        ..DEFAULT_SETTINGS
    };
    for (i, settings) in [DEFAULT_SETTINGS, maxed_texture].iter().enumerate() {
        let run = run_engine(settings, 0x9e37_79b9 + i as u64);
        // The scenario covers what it claims to.
        let sent = &run.sent;
        assert!(
            has_retrigger(sent, Source::Thru, 0, 60),
            "no output retrigger of the chords' key 60"
        );
        assert!(
            has_retrigger(sent, Source::Thru, 0, 72),
            "no input retrigger of key 72"
        );
        assert!(
            sent.iter()
                .any(|s| s.2.on && s.2.channel == 3 && s.2.key == 64),
            "no Thru note on the chords' key 64 on another channel"
        );
        assert!(
            sent.iter()
                .any(|s| s.2.on && s.2.channel == DRUMS_CH && s.2.key == 50),
            "no drum key without a sound"
        );
        assert!(
            sent.iter().any(|s| s.0 == SEEK_AT && !s.2.on),
            "the seek released nothing"
        );
        assert!(
            sent.iter().any(|s| s.0 == STOP_AT && !s.2.on),
            "the stop released nothing"
        );
        assert!(
            sent.iter()
                .any(|s| s.0 == RELEASE_AT && s.1 == Source::Thru && !s.2.on),
            "the release ended no Thru note"
        );
        let (l, r) = &run.audio;
        assert!(peak(l, r) > 0.05, "the engine played nothing");
        assert!(
            peak(&l[STOP_AT as usize..RESTART_AT as usize], &[]) > 0.01,
            "Thru's keys were not heard through the stop"
        );
        let (rl, rr) = replay(&run, settings);
        assert_same(l, &rl, &format!("left, settings {i}"));
        assert_same(r, &rr, &format!("right, settings {i}"));
    }
}
