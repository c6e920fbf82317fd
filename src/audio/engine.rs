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

use super::band::{Band, Instrument, SoundSettings};
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

/// The sequencer and the band, driven together; see the module docs.
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

    /// Plays one block: events to `out` (the host) and to the band, audio into `left` and
    /// `right` (which must be as long as each other: the block).
    pub fn process(
        &mut self,
        transport: &TransportSnapshot,
        sound: &SoundBlock,
        left: &mut [f32],
        right: &mut [f32],
        out: &mut impl SequencerOutput,
    ) {
        let n = left.len().min(right.len());
        let block_samples = n as u32;
        let band = match self.band.as_mut() {
            Some((band, _)) if sound.built_in => band,
            _ => {
                self.sequencer.process(transport, block_samples, out);
                self.mute(left, right);
                return;
            }
        };
        self.band_on = true;
        band.set_playing(transport.playing);
        if self.was_playing && !transport.playing {
            // Stopped: ringing drums are damped as well (the note-offs the sequencer sends
            // below release the other instruments; a drum hit has no note-off to follow).
            band.release_all();
        }
        self.was_playing = transport.playing;
        let mut driver = BandDriver {
            out,
            band,
            settings: &sound.settings,
            kit: sound.kit,
            left: &mut left[..n],
            right: &mut right[..n],
            rendered: 0,
        };
        self.sequencer
            .process(transport, block_samples, &mut driver);
        driver.render_to(n);
    }

    /// Bypass: every sounding note ends (the note-offs go to `out`) and the output is exact
    /// zeros; the band starts silent when the bypass ends.
    pub fn bypass(&mut self, left: &mut [f32], right: &mut [f32], out: &mut impl SequencerOutput) {
        self.sequencer.silence(0, out);
        self.mute(left, right);
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

/// Passes the sequencer's events on to the host and plays them on the band at their sample
/// offsets, rendering the band up to each event first.
struct BandDriver<'a, O> {
    /// The host (or a recorder).
    out: &'a mut O,
    /// The band.
    band: &'a mut Band,
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
}

impl<O> BandDriver<'_, O> {
    /// Renders the band up to sample `to` of the block.
    fn render_to(&mut self, to: usize) {
        let to = to.min(self.left.len());
        if to > self.rendered {
            let span = self.rendered..to;
            self.band.render(
                self.settings,
                &mut self.left[span.clone()],
                &mut self.right[span],
            );
            self.rendered = to;
        }
    }
}

impl<O: SequencerOutput> SequencerOutput for BandDriver<'_, O> {
    fn note(&mut self, event: MidiEvent) {
        self.render_to(event.timing as usize);
        let instrument = instrument(event.part);
        // The kit is keyed by General MIDI; a drum key of another map is translated (a key
        // that stands for no drum sound is sent to the host but not played).
        let key = match event.part {
            Part::Drums => self
                .kit
                .sound(event.key)
                .map(|s| KitMap::GeneralMidi.key(s)),
            _ => Some(event.key),
        };
        match key {
            Some(key) if event.on => self.band.note_on(instrument, key, event.velocity),
            Some(key) => self.band.note_off(instrument, key),
            None => {}
        }
        self.out.note(event);
    }

    fn retire(&mut self, phrase: Box<Phrase>) {
        self.out.retire(phrase);
    }
}
