//! The engine: the sequencer plays the phrase against the transport, and the built-in band
//! plays exactly the note events the sequencer sends to the host, at the same sample offsets.
//! Owned by the audio thread. [`Engine::new`] is cheap; [`Engine::prepare`] allocates the band
//! (its voices and delay lines) for a sample rate, off the audio thread (at activation);
//! everything else is real-time safe.
//!
//! Each block is rendered in spans split at every event's sample offset: render the band up
//! to the event, apply the event, go on. The band advances per sample, so the audio does not
//! depend on how a host splits its blocks (1–8192 samples) — the same rule the events obey.
//!
//! With the sound set to MIDI only, or while bypassed, the output is exact zeros.
//!
//! MIDI input ([`Engine::process_with_input`]) is read lazily in the host's order and merged
//! with the sequencer's events in time order: an input event at sample k is applied before a
//! sequencer event at k. Each note the input table ([`InputNotes`]) starts or ends goes to the
//! listener ([`Follow`]) and, with Thru on, to the output and the built-in keys at the same
//! offset, through [`OutputNotes`], so the two sources never hang or double each other's
//! notes. Thru notes still held end when Thru is switched off, when bypassed, and in the first
//! block after `reset`/deactivation; a transport stop leaves them alone (they are the
//! musician's), and the band's release on stop spares the keys they hold.
//!
//! With Follow: Live, each sequencer note passes through [`Live`] on its way out (the bass and
//! melody move to the chord held), and a held chord's change schedules the sounding bass's
//! move at the next eighth-note line, merged in time order with both sources' events.

use super::band::{Band, Instrument, SoundSettings};
use super::follow::{Follow, FollowMode};
use super::input::{InputEvent, InputNotes, NoteChange, NoteInput, OutputNotes, Source};
use super::live::Live;
use super::sequencer::{MidiEvent, Sequencer, SequencerOutput, TransportSnapshot};
use crate::music::drums::KitMap;
use crate::music::phrase::{Part, Phrase};

/// Which built-in instrument plays a part.
pub fn instrument(part: Part) -> Instrument {
    match part {
        Part::Chords => Instrument::Keys,
        Part::Melody => Instrument::Melody,
        Part::Bass => Instrument::Bass,
        Part::Drums => Instrument::Kit,
    }
}

/// What the engine does with sound this block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SoundBlock {
    /// Whether the built-in band plays (else the output is exact zeros: MIDI only).
    pub built_in: bool,
    /// The band's settings.
    pub settings: SoundSettings,
    /// The drum part's key map: the kit hears each drum key as the sound it stands for.
    pub kit: KitMap,
}

/// What the engine does with MIDI input this block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InputBlock {
    /// Whether input notes are played through (to the output, and on the built-in keys).
    pub thru: bool,
    /// What the listener follows.
    pub follow: FollowMode,
    /// The phrase length in bars (the listener counts bars from phrase boundaries).
    pub phrase_bars: u32,
}

/// No MIDI input (the command line's bounce, tests of the sequencer alone).
pub struct NoInput<'a, O>(pub &'a mut O);

impl<O: SequencerOutput> SequencerOutput for NoInput<'_, O> {
    fn note(&mut self, event: MidiEvent) {
        self.0.note(event);
    }

    fn note_from(&mut self, source: Source, event: MidiEvent) {
        self.0.note_from(source, event);
    }

    fn retire(&mut self, phrase: Box<Phrase>) {
        self.0.retire(phrase);
    }
}

impl<O> NoteInput for NoInput<'_, O> {
    fn next_input(&mut self) -> Option<InputEvent> {
        None
    }
}

/// The sequencer, the input and the band, driven together; see the module docs.
#[derive(Default)]
pub struct Engine {
    /// Plays the phrase against the transport.
    sequencer: Sequencer,
    /// Plays the sequencer's events, once prepared for a sample rate (with the rate, in Hz).
    band: Option<(Band, f32)>,
    /// Whether the band played last block (switching to MIDI only resets it once).
    band_on: bool,
    /// Whether the transport played last block (a stop releases the band once).
    was_playing: bool,
    /// The input note table.
    input: InputNotes,
    /// What the sequencer and Thru hold on the output and the built-in keys.
    output: OutputNotes,
    /// The listener (Follow).
    follow: Follow,
    /// What Follow: Live moved (the keys the bass and melody were sent as).
    live: Live,
    /// End every Thru note and forget the input at the start of the next block (set by
    /// `reset`, when no events can be sent).
    input_release_requested: bool,
}

impl Engine {
    /// An engine with nothing to play and no band yet (cheap).
    pub fn new() -> Engine {
        Engine::default()
    }

    /// Makes the band for `sample_rate` Hz, unless it has it already. Allocates: call off the
    /// audio thread (at activation). The sequencer and its phrases are kept.
    pub fn prepare(&mut self, sample_rate: f32) {
        if self
            .band
            .as_ref()
            .is_none_or(|(_, rate)| *rate != sample_rate)
        {
            self.band = Some((Band::new(sample_rate), sample_rate));
            self.band_on = false;
        }
    }

    /// The sequencer (phrases, swap mode, chasing).
    pub fn sequencer(&self) -> &Sequencer {
        &self.sequencer
    }

    /// The sequencer, to queue phrases and change its settings.
    pub fn sequencer_mut(&mut self) -> &mut Sequencer {
        &mut self.sequencer
    }

    /// The listener: what it heard, for the next request.
    pub fn follow(&self) -> &Follow {
        &self.follow
    }

    /// The listener, to forget what it captured.
    pub fn follow_mut(&mut self) -> &mut Follow {
        &mut self.follow
    }

    /// Asks for everything to end at the start of the next block: the sequencer's notes and
    /// Thru's, and the input table is forgotten (after a reset the host considers its notes
    /// ended). Real-time safe; for `reset()` and `deactivate()`, where no events can be sent.
    pub fn request_release(&mut self) {
        self.sequencer.request_release();
        self.input_release_requested = true;
    }

    /// Plays one block without MIDI input: events to `out` (the host) and to the band, audio
    /// into `left` and `right` (which must be as long as each other: the block).
    pub fn process(
        &mut self,
        transport: &TransportSnapshot,
        sound: &SoundBlock,
        left: &mut [f32],
        right: &mut [f32],
        out: &mut impl SequencerOutput,
    ) {
        let input = InputBlock {
            thru: false,
            follow: FollowMode::Off,
            phrase_bars: 1,
        };
        self.process_with_input(transport, sound, &input, left, right, &mut NoInput(out));
    }

    /// Plays one block with the MIDI input `io` gives (see the module docs); events to `io`
    /// and to the band, audio into `left` and `right`.
    pub fn process_with_input<IO: SequencerOutput + NoteInput>(
        &mut self,
        transport: &TransportSnapshot,
        sound: &SoundBlock,
        input: &InputBlock,
        left: &mut [f32],
        right: &mut [f32],
        io: &mut IO,
    ) {
        let n = left.len().min(right.len());
        let block_samples = n as u32;
        let built_in = sound.built_in && self.band.is_some();
        if built_in {
            self.band_on = true;
        } else {
            self.mute(left, right);
        }
        let band = match self.band.as_mut() {
            Some((band, _)) if built_in => {
                band.set_playing(transport.playing);
                Some(band)
            }
            _ => None,
        };
        self.follow
            .begin_block(input.follow, transport, block_samples, input.phrase_bars);
        let mut driver = Driver {
            out: Out {
                io,
                band,
                settings: &sound.settings,
                kit: sound.kit,
                left: &mut left[..n],
                right: &mut right[..n],
                rendered: 0,
                output: &mut self.output,
                last_timing: 0,
            },
            input: &mut self.input,
            follow: &mut self.follow,
            live: &mut self.live,
            listen: true,
            thru: input.thru,
            lookahead: None,
            block_samples,
        };
        if std::mem::take(&mut self.input_release_requested) {
            driver.out.end_thru(0);
            driver.input.forget();
            driver.follow.sounding(0, None);
        } else if !input.thru {
            driver.out.end_thru(0);
        }
        if self.was_playing && !transport.playing {
            // Stopped: ringing drums are damped and the band released (the note-offs the
            // sequencer sends below release the notes it played; a drum hit has none), except
            // the keys Thru holds: the musician's notes go on.
            let thru_keys = driver.out.output.thru_keys();
            if let Some(band) = driver.out.band.as_mut() {
                band.release_all_but_keys(thru_keys);
            }
        }
        self.was_playing = transport.playing;
        self.sequencer
            .process(transport, block_samples, &mut driver);
        driver.input_until(u32::MAX);
        driver.move_until(block_samples.saturating_sub(1));
        driver.out.render_to(n);
        driver.follow.advance_to(block_samples);
        self.input.advance(block_samples);
    }

    /// Bypass: every sounding note ends (the note-offs go to `io`, the sequencer's and Thru's)
    /// and the output is exact zeros; the band starts silent when the bypass ends. The input
    /// is still read, so the table stays true, but nothing is played through.
    pub fn bypass<IO: SequencerOutput + NoteInput>(
        &mut self,
        left: &mut [f32],
        right: &mut [f32],
        io: &mut IO,
    ) {
        self.mute(left, right);
        let block_samples = left.len().min(right.len()) as u32;
        let mut driver = Driver {
            out: Out {
                io,
                band: None,
                settings: &super::band::DEFAULT_SETTINGS,
                kit: KitMap::GeneralMidi,
                left: &mut [],
                right: &mut [],
                rendered: 0,
                output: &mut self.output,
                last_timing: 0,
            },
            input: &mut self.input,
            follow: &mut self.follow,
            live: &mut self.live,
            listen: false,
            thru: false,
            lookahead: None,
            block_samples,
        };
        if std::mem::take(&mut self.input_release_requested) {
            driver.input.forget();
            driver.follow.sounding(0, None);
        }
        driver.out.end_thru(0);
        self.sequencer.silence(0, &mut driver);
        driver.input_until(u32::MAX);
        self.input.advance(block_samples);
    }

    /// Exact zeros out, and the band silenced once (so no old tail comes back later).
    fn mute(&mut self, left: &mut [f32], right: &mut [f32]) {
        left.fill(0.0);
        right.fill(0.0);
        if self.band_on {
            if let Some((band, _)) = self.band.as_mut() {
                band.reset();
            }
            self.band_on = false;
        }
    }

    /// Whether the band is silent with every tail done (the output is zeros until a note).
    pub fn is_idle(&self) -> bool {
        !self.band_on || self.band.as_ref().is_none_or(|(band, _)| band.is_idle())
    }
}

/// Merges the sequencer's events and the input's in time order, and tells the listener.
struct Driver<'a, IO> {
    /// Where events go.
    out: Out<'a, IO>,
    /// The input note table.
    input: &'a mut InputNotes,
    /// The listener.
    follow: &'a mut Follow,
    /// Follow: Live's moves.
    live: &'a mut Live,
    /// Whether the listener hears the input (not while bypassed).
    listen: bool,
    /// Whether input notes are played through.
    thru: bool,
    /// The next input event, read but not applied yet.
    lookahead: Option<InputEvent>,
    /// The block's length in samples.
    block_samples: u32,
}

/// Routes note events of both sources to the host and the band, rendering the band up to
/// each event first.
struct Out<'a, IO> {
    /// The host (or a recorder), and the input.
    io: &'a mut IO,
    /// The band, when it plays.
    band: Option<&'a mut Band>,
    /// This block's sound settings.
    settings: &'a SoundSettings,
    /// The drum part's key map.
    kit: KitMap,
    /// The block's left channel.
    left: &'a mut [f32],
    /// The block's right channel.
    right: &'a mut [f32],
    /// Samples of the block rendered so far.
    rendered: usize,
    /// What each source holds on the output.
    output: &'a mut OutputNotes,
    /// The latest timing sent so far (input timings are clamped to it, so what is sent stays
    /// in order even if a host's events are not).
    last_timing: u32,
}

impl<IO: SequencerOutput + NoteInput> Out<'_, IO> {
    /// Renders the band up to sample `to` of the block.
    fn render_to(&mut self, to: usize) {
        let to = to.min(self.left.len());
        if to > self.rendered {
            if let Some(band) = self.band.as_mut() {
                let span = self.rendered..to;
                band.render(
                    self.settings,
                    &mut self.left[span.clone()],
                    &mut self.right[span],
                );
            }
            self.rendered = to;
        }
    }

    /// Sends one note event of `source` on: to the MIDI output and the band, as the output
    /// table decides.
    fn route(&mut self, source: Source, event: MidiEvent) {
        self.render_to(event.timing as usize);
        self.last_timing = self.last_timing.max(event.timing);
        let instrument = instrument(event.part);
        let on_keys = instrument == Instrument::Keys;
        let routed = self.output.route(source, event, on_keys);
        for midi in routed.midi.into_iter().flatten() {
            self.io.note_from(source, midi);
        }
        let Some(band) = self.band.as_mut() else {
            return;
        };
        match routed.keys {
            _ if !on_keys => {
                // Only the sequencer plays these instruments, and its own table keeps their
                // notes paired. The kit is keyed by General MIDI; a drum key of another map is
                // translated (a key that stands for no drum sound is sent to the host but not
                // played).
                let key = match event.part {
                    Part::Drums => self
                        .kit
                        .sound(event.key)
                        .map(|s| KitMap::GeneralMidi.key(s)),
                    _ => Some(event.key),
                };
                match key {
                    Some(key) if event.on => band.note_on(instrument, key, event.velocity),
                    Some(key) => band.note_off(instrument, key),
                    None => {}
                }
            }
            Some((key, 0)) => band.note_off(Instrument::Keys, key),
            Some((key, velocity)) => band.note_on(Instrument::Keys, key, velocity),
            None => {}
        }
    }

    /// Ends every note Thru holds, at `timing` (at most 16 × 128).
    fn end_thru(&mut self, timing: u32) {
        if !self.output.holds_any(Source::Thru) {
            return;
        }
        let mut ended = [0u128; 16];
        self.output.held_notes(Source::Thru, timing, |e| {
            ended[usize::from(e.channel)] |= 1 << e.key;
        });
        for (ch, keys) in ended.iter().enumerate() {
            let mut keys = *keys;
            while keys != 0 {
                let k = keys.trailing_zeros() as u8;
                keys &= keys - 1;
                self.route(Source::Thru, thru_event(timing, false, ch as u8, k, 0));
            }
        }
    }
}

/// A Thru note event (played on the built-in keys, as the chords are).
fn thru_event(timing: u32, on: bool, channel: u8, key: u8, velocity: u8) -> MidiEvent {
    MidiEvent {
        timing,
        on,
        channel,
        key,
        velocity,
        part: Part::Chords,
    }
}

impl<IO: SequencerOutput + NoteInput> Driver<'_, IO> {
    /// Applies every input event up to and including sample `until`, in the host's order.
    /// Bounded by the events the host gave.
    fn input_until(&mut self, until: u32) {
        loop {
            let Some(event) = self.lookahead.take().or_else(|| self.out.io.next_input()) else {
                return;
            };
            let last = self.block_samples.saturating_sub(1);
            let timing = event.timing().min(last).max(self.out.last_timing);
            if timing > until {
                self.lookahead = Some(event);
                return;
            }
            if timing > 0 {
                self.move_until(timing - 1);
            }
            self.apply_input(event.at(timing));
        }
    }

    /// Applies one input event: the note table, then every note it starts or ends goes to
    /// the listener and, with Thru on, out.
    fn apply_input(&mut self, event: InputEvent) {
        let Driver {
            out,
            input,
            follow,
            live,
            listen,
            thru,
            ..
        } = self;
        let (listen, thru) = (*listen, *thru);
        let held_root = follow.held().map(|c| c.root);
        if listen {
            follow.advance_to(event.timing());
        }
        input.apply(event, &mut |c: NoteChange| {
            if listen && !c.on {
                follow.note_ended(c.key, c.held_samples);
            }
            if thru {
                out.route(
                    Source::Thru,
                    thru_event(c.timing, c.on, c.channel, c.key, c.velocity),
                );
            }
        });
        if listen {
            follow.sounding(input.pitch_classes(), input.lowest());
            let now = follow.held();
            if now.is_some() && now.map(|c| c.root) != held_root {
                live.chord_changed(follow.clock(), event.timing());
            }
        }
    }

    /// Moves the sounding bass to the chord held (Follow: Live) if its eighth-note line is
    /// due at or before sample `until`.
    fn move_until(&mut self, until: u32) {
        let clock = self.follow.clock();
        let Some(due) = self.live.move_due(clock, self.block_samples) else {
            return;
        };
        if due > until {
            return;
        }
        let held = self.follow.held();
        let out = &mut self.out;
        self.live
            .move_bass(due, held, |e| out.route(Source::Sequencer, e));
    }
}

impl<IO: SequencerOutput + NoteInput> SequencerOutput for Driver<'_, IO> {
    fn note(&mut self, event: MidiEvent) {
        self.input_until(event.timing);
        self.move_until(event.timing);
        let event = self.live.note(event, self.follow.held());
        self.out.route(Source::Sequencer, event);
    }

    fn retire(&mut self, phrase: Box<Phrase>) {
        self.out.io.retire(phrase);
    }
}
