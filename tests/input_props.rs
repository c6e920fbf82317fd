//! Property tests of MIDI input through the engine (no host): random, hostile input — notes on
//! the phrase's own channels and keys, repeated note-ons, stray note-offs, the pedal, CC
//! 120/123, wildcard note-offs — played through with Thru beside a phrase, with the built-in
//! band, with Follow: Chords and Follow: Live (which moves the phrase's bass and melody to the
//! chords the input holds):
//! * the events and the audio do not depend on how the run is split into blocks;
//! * no note is doubled or left hanging, after a final release (what `reset` asks for);
//! * nothing allocates (every block runs inside `assert_no_alloc`, the guard nice-plug installs
//!   in debug builds).

// A test that cannot go on should stop at once, with a message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lofi_loom::audio::band::DEFAULT_SETTINGS;
use lofi_loom::audio::engine::{Engine, InputBlock, SoundBlock};
use lofi_loom::audio::follow::FollowMode;
use lofi_loom::audio::input::{InputEvent, NoteInput};
use lofi_loom::audio::sequencer::{MidiEvent, SequencerOutput};
use lofi_loom::audio::sim::SimTransport;
use lofi_loom::music::drums::KitMap;
use lofi_loom::music::phrase::{Note, Part, Phrase};
use proptest::prelude::*;

/// Samples each run plays (a little over one 4/4 bar at 120 BPM, 48 kHz).
const RUN: u64 = 100_000;

/// A one-bar phrase whose chords (channel 0), bass (channel 1) and melody (channel 2) use the
/// keys the input plays too.
fn phrase() -> Box<Phrase> {
    let mut p = Phrase::new(1);
    for (start, len, key, channel, part) in [
        (0.0, 2.0, 60, 0, Part::Chords),
        (0.0, 4.0, 64, 0, Part::Chords),
        (2.0, 2.0, 62, 0, Part::Chords),
        (0.0, 1.0, 36, 1, Part::Bass),
        (1.5, 2.5, 38, 1, Part::Bass),
        (0.5, 1.0, 67, 2, Part::Melody),
        (2.25, 1.5, 69, 2, Part::Melody),
    ] {
        p.push(Note {
            start_beats: start,
            len_beats: len,
            key,
            velocity: 90,
            channel,
            part,
        });
    }
    p.finish();
    Box::new(p)
}

/// Input events at run samples.
fn arb_input() -> impl Strategy<Value = Vec<(u64, InputEvent)>> {
    let channel = prop_oneof![0u8..2, 0u8..16];
    let key = prop_oneof![Just(36u8), Just(38), 58u8..66, 0u8..128];
    let event = (0u8..10, channel, key, 1u8..128).prop_map(|(kind, channel, key, velocity)| {
        let timing = 0;
        match kind {
            0..=3 => InputEvent::NoteOn {
                timing,
                channel,
                key,
                velocity,
            },
            4..=6 => InputEvent::NoteOff {
                timing,
                channel: Some(channel),
                key: Some(key),
            },
            7 => InputEvent::Sustain {
                timing,
                channel,
                down: velocity >= 64,
            },
            8 => InputEvent::AllNotesOff { timing, channel },
            _ => InputEvent::NoteOff {
                timing,
                channel: None,
                key: None,
            },
        }
    });
    prop::collection::vec((0..RUN, event), 0..80).prop_map(|mut v| {
        v.sort_by_key(|e| e.0);
        v
    })
}

fn arb_blocks() -> impl Strategy<Value = Vec<u32>> {
    prop::collection::vec(prop_oneof![1u32..=16, 1u32..=1024, 1u32..=8192], 1..32)
}

/// An event out: run sample, on, channel, key, velocity.
type Out = (u64, bool, u8, u8, u8);

/// The host of one block: the input due in it, and what comes out (at run samples).
struct Io<'a> {
    /// This block's input events (timings in the block), in order.
    input: &'a [(u64, InputEvent)],
    /// The next one to hand over.
    next: usize,
    /// The block's first run sample.
    start: u64,
    /// Events out: run sample, on, channel, key, velocity.
    out: &'a mut Vec<Out>,
}

impl NoteInput for Io<'_> {
    fn next_input(&mut self) -> Option<InputEvent> {
        let (at, e) = self.input.get(self.next)?;
        self.next += 1;
        Some(e.at((at - self.start) as u32))
    }
}

impl SequencerOutput for Io<'_> {
    fn note(&mut self, e: MidiEvent) {
        if self.out.len() < self.out.capacity() {
            self.out.push((
                self.start + u64::from(e.timing),
                e.on,
                e.channel,
                e.key,
                e.velocity,
            ));
        }
    }

    fn retire(&mut self, _phrase: Box<Phrase>) {
        unreachable!("nothing is swapped");
    }
}

/// Plays the run in `blocks` (cycled) with Follow set to `follow`, then one release block;
/// returns the events and the audio (left).
fn run(input: &[(u64, InputEvent)], blocks: &[u32], follow: FollowMode) -> (Vec<Out>, Vec<f32>) {
    let mut engine = Engine::new();
    engine.prepare(48_000.0);
    engine.sequencer_mut().queue(phrase(), &mut Sink);
    let mut t = SimTransport::new(48_000.0, 120.0);
    t.playing = true;
    let sound = SoundBlock {
        built_in: true,
        settings: DEFAULT_SETTINGS,
        kit: KitMap::GeneralMidi,
    };
    let block_input = InputBlock {
        thru: true,
        follow,
        phrase_bars: 1,
    };
    let mut out = Vec::with_capacity(100_000);
    let mut audio = vec![0.0f32; RUN as usize + 64];
    let mut right = vec![0.0f32; 8192];
    let mut done = 0u64;
    let mut i = 0;
    let mut release = false;
    while done < RUN + 64 {
        let len = if done >= RUN {
            64
        } else {
            let b = blocks[i % blocks.len()];
            i += 1;
            u64::from(b).min(RUN - done) as u32
        };
        if done >= RUN && !release {
            // The end of the run: what `reset` asks for.
            engine.request_release();
            release = true;
        }
        let first = input.partition_point(|e| e.0 < done);
        let last = input.partition_point(|e| e.0 < done + u64::from(len));
        let mut io = Io {
            input: &input[first..last],
            next: 0,
            start: done,
            out: &mut out,
        };
        let span = done as usize..done as usize + len as usize;
        let left = &mut audio[span];
        let right = &mut right[..len as usize];
        let snapshot = t.snapshot();
        nice_assert_no_alloc::assert_no_alloc(|| {
            engine.process_with_input(&snapshot, &sound, &block_input, left, right, &mut io);
        });
        t.advance(len);
        done += u64::from(len);
    }
    (out, audio)
}

/// Phrases queued before the run go nowhere.
struct Sink;

impl SequencerOutput for Sink {
    fn note(&mut self, _e: MidiEvent) {}
    fn retire(&mut self, _phrase: Box<Phrase>) {}
}

/// Never a note-on on a sounding key, never a note-off of a silent one, nothing at the end.
fn check_pairing(events: &[Out]) {
    let mut sounding = [[false; 128]; 16];
    let mut last = 0;
    for e in events {
        assert!(e.0 >= last, "out of order: {e:?}");
        last = e.0;
        let slot = &mut sounding[usize::from(e.2)][usize::from(e.3)];
        assert_ne!(*slot, e.1, "{e:?}");
        *slot = e.1;
    }
    assert!(sounding.iter().flatten().all(|s| !s), "a note hangs");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn input_is_block_size_invariant_and_never_hangs(input in arb_input(), blocks in arb_blocks()) {
        // Live moves the bass and melody to the chords the input holds.
        for follow in [FollowMode::Chords, FollowMode::Live] {
            let (events, audio) = run(&input, &blocks, follow);
            check_pairing(&events);
            let (one_block_events, one_block_audio) = run(&input, &[8192], follow);
            prop_assert_eq!(&events, &one_block_events);
            prop_assert!(audio == one_block_audio, "the audio depends on the blocks");
        }
    }
}
