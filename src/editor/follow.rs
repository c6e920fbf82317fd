//! The Follow card: the Follow and Thru controls and what Lofi Loom hears of the musician's
//! notes (the chord now, the key, the progression captured bar by bar, and whether it is
//! listening). The words are a pure function of the listener's view ([`listen_text`]),
//! tested without a window.

use super::{controls, theme, LoomApp, Snapshot};
use crate::audio::follow::FollowMode;
use crate::bridge::views::ListenView;
use crate::music::harmony::{name, HeardChord};
use crate::music::names::SEPARATOR;
use crate::music::progression::Mode;
use crate::music::theory::key_name;
use egui::{Align, Layout as EguiLayout, RichText, Ui};
use nice_plug::prelude::ParamSetter;

/// Shown for a chord (or key) not recognised.
pub const NOTHING: &str = "—";

/// What the Follow card says, line by line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenText {
    /// The chord heard now, e.g. "Dm9" or "C/E"; [`NOTHING`] when none is recognised.
    pub heard: String,
    /// The key heard, e.g. "Key: A Aeolian" (None: Follow is off).
    pub key: Option<String>,
    /// The listening state, e.g. "Listening — bar 3 of 4".
    pub state: String,
    /// Whether it is listening now (the state is lit).
    pub lit: bool,
    /// The chords captured (or heard so far in this phrase), e.g. "Dm7 · G7 · Cmaj7 · Am7".
    pub chords: Option<String>,
    /// What happens to the captured chords.
    pub note: Option<&'static str>,
}

/// What to say about `view`: chords are spelled in the key heard, else in `fallback_key`
/// (the key of the phrase playing), else in C Ionian.
pub fn listen_text(view: &ListenView, fallback_key: Option<(u8, Mode)>) -> ListenText {
    let (key, mode) = view.key.or(fallback_key).unwrap_or((0, Mode::Ionian));
    let chord_name = |c: &Option<HeardChord>| {
        c.map_or_else(|| NOTHING.to_owned(), |c| name(&c, key, mode).to_string())
    };
    let line = |chords: &[Option<HeardChord>]| {
        chords
            .iter()
            .map(chord_name)
            .collect::<Vec<_>>()
            .join(SEPARATOR)
    };
    let heard = view.heard.map_or_else(
        || NOTHING.to_owned(),
        |c| format!("{:#}", name(&c, key, mode)),
    );
    let key_line = (view.mode != FollowMode::Off).then(|| match view.key {
        Some((tonic, mode)) => format!("Key: {} {}", key_name(tonic, mode), mode.name()),
        None => format!("Key: {NOTHING}"),
    });
    let captured = &view.captured[..(view.captured_bars as usize).min(view.captured.len())];
    let mut text = ListenText {
        heard,
        key: key_line,
        state: String::new(),
        lit: false,
        chords: None,
        note: None,
    };
    match view.mode {
        FollowMode::Off => {
            text.state = "Follow off".to_owned();
            if !captured.is_empty() {
                text.chords = Some(format!("Captured, not used: {}", line(captured)));
            }
        }
        FollowMode::Key => {
            text.state = match view.bar {
                None => "Follow: key — waiting for the transport".to_owned(),
                Some(_) => "Listening for the key".to_owned(),
            };
            text.lit = view.bar.is_some();
        }
        FollowMode::Chords | FollowMode::Live => match (view.bar, view.listening) {
            (Some(bar), true) => {
                text.state = format!("Listening — bar {} of {}", bar + 1, view.phrase_bars);
                text.lit = true;
                let so_far = &view.working[..(bar as usize).min(view.working.len())];
                if !so_far.is_empty() {
                    text.chords = Some(format!("So far: {}", line(so_far)));
                }
                text.note = Some("becomes the next phrase's chords at the phrase's end");
            }
            _ if !captured.is_empty() => {
                text.state = "Captured".to_owned();
                text.chords = Some(line(captured));
                text.note = Some("kept until you play again or Regenerate");
            }
            (None, _) => {
                text.state = "Follow: chords — waiting for the transport".to_owned();
            }
            (Some(_), false) => {
                text.state = "Listening — play a phrase of chords".to_owned();
                text.lit = true;
            }
        },
    }
    if view.mode == FollowMode::Live {
        // Live also moves the bass and melody to the chord held, at once.
        text.state = match text.state.strip_prefix("Follow: chords") {
            Some(rest) => format!("Follow: live{rest}"),
            None => format!("Live · {}", text.state),
        };
    }
    text
}

impl LoomApp {
    /// Follow and Thru, the chord and key heard, the listening state and the captured chords.
    pub(super) fn follow(&mut self, ui: &mut Ui, setter: &ParamSetter, snap: &Snapshot) {
        let params = self.shared.params.clone();
        let g = &mut self.gestures;
        ui.horizontal(|ui| {
            ui.label(RichText::new("Follow").color(theme::MUTED).strong());
            controls::enum_combo(ui, g, setter, &params.follow, 70.0).on_hover_text(
                "What the next phrase follows in your MIDI input: nothing, the key, or the \
                 chords you play. Live: the chords, and the bass and melody move to the \
                 chord you hold at once",
            );
            ui.with_layout(EguiLayout::right_to_left(Align::Center), |ui| {
                controls::toggle(ui, g, setter, &params.thru, "Thru")
                    .on_hover_text("Play your MIDI input through, to the output and the keys");
            });
        });
        let fallback = snap
            .phrase
            .as_ref()
            .map(|v| (v.progression.key, v.progression.mode));
        let text = listen_text(&snap.listen, fallback);
        ui.horizontal(|ui| {
            let colour = if snap.listen.heard.is_some() {
                theme::TEXT
            } else {
                theme::MUTED
            };
            ui.label(
                RichText::new(&text.heard)
                    .font(theme::big(24.0))
                    .color(colour),
            )
            .on_hover_text("The chord you are playing now");
            if let Some(key) = &text.key {
                ui.with_layout(EguiLayout::right_to_left(Align::Center), |ui| {
                    ui.label(RichText::new(key).color(theme::MUTED));
                });
            }
        });
        let state_colour = if text.lit {
            theme::ACCENT
        } else {
            theme::MUTED
        };
        ui.label(RichText::new(&text.state).small().color(state_colour));
        if let Some(chords) = &text.chords {
            ui.label(RichText::new(chords).color(theme::TEXT));
        }
        if let Some(note) = text.note {
            ui.label(RichText::new(note).small().color(theme::MUTED));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::music::harmony::recognize;
    use crate::music::progression::MAX_BARS;

    /// The chord of `keys` (lowest key the bass), as the views give it back.
    fn chord(keys: &[u8]) -> Option<HeardChord> {
        let mask = keys.iter().fold(0u16, |m, k| m | 1 << (k % 12));
        recognize(mask, keys.iter().min().map(|k| k % 12)).map(|c| HeardChord {
            confidence: 1.0,
            ..c
        })
    }

    fn two_five_one_six() -> [Option<HeardChord>; MAX_BARS] {
        let mut bars = [None; MAX_BARS];
        bars[0] = chord(&[50, 57, 60, 65]);
        bars[1] = chord(&[43, 53, 59, 62]);
        bars[2] = chord(&[48, 52, 55, 59]);
        bars[3] = chord(&[45, 55, 60, 64]);
        bars
    }

    #[test]
    fn off_says_so_and_names_nothing() {
        let text = listen_text(&ListenView::default(), None);
        assert_eq!(
            text,
            ListenText {
                heard: NOTHING.to_owned(),
                key: None,
                state: "Follow off".to_owned(),
                lit: false,
                chords: None,
                note: None,
            }
        );
    }

    #[test]
    fn the_chord_heard_now_is_named_like_the_progressions() {
        let view = ListenView {
            mode: FollowMode::Key,
            heard: chord(&[50, 53, 57, 60, 64]),
            key: Some((0, Mode::Ionian)),
            bar: Some(0),
            ..ListenView::default()
        };
        let text = listen_text(&view, None);
        assert_eq!(text.heard, "Dm9");
        assert_eq!(text.key.as_deref(), Some("Key: C Ionian"));
        assert_eq!(text.state, "Listening for the key");
        assert!(text.lit);
        // An inversion shows its bass; in Bb the root is spelled with a flat.
        let view = ListenView {
            heard: chord(&[50, 58, 65]),
            key: None,
            ..view
        };
        let text = listen_text(&view, Some((10, Mode::Ionian)));
        assert_eq!(text.heard, "Bb/D");
        assert_eq!(text.key.as_deref(), Some("Key: —"));
        // Stopped.
        let text = listen_text(&ListenView { bar: None, ..view }, None);
        assert_eq!(text.state, "Follow: key — waiting for the transport");
        assert!(!text.lit);
    }

    #[test]
    fn chords_mode_says_what_it_listens_to_and_what_it_captured() {
        let captured = two_five_one_six();
        let base = ListenView {
            mode: FollowMode::Chords,
            key: Some((0, Mode::Ionian)),
            bar: Some(2),
            phrase_bars: 4,
            ..ListenView::default()
        };
        // Nothing played, nothing captured.
        let text = listen_text(&base, None);
        assert_eq!(text.state, "Listening — play a phrase of chords");
        assert_eq!((text.chords, text.note), (None, None));
        let stopped = listen_text(&ListenView { bar: None, ..base }, None);
        assert_eq!(stopped.state, "Follow: chords — waiting for the transport");
        // Playing from bar 1: two bars heard so far, the third sounding.
        let mut working = [None; MAX_BARS];
        working[..2].copy_from_slice(&captured[..2]);
        let listening = ListenView {
            listening: true,
            working,
            heard: captured[2],
            ..base
        };
        let text = listen_text(&listening, None);
        assert_eq!(text.state, "Listening — bar 3 of 4");
        assert!(text.lit);
        assert_eq!(text.heard, "Cmaj7");
        assert_eq!(text.chords.as_deref(), Some("So far: Dm7 · G7"));
        // Captured, then silence: the progression is kept.
        let kept = ListenView {
            captured,
            captured_bars: 4,
            ..base
        };
        let text = listen_text(&kept, None);
        assert_eq!(text.state, "Captured");
        assert!(!text.lit);
        assert_eq!(text.chords.as_deref(), Some("Dm7 · G7 · Cmaj7 · Am7"));
        assert_eq!(text.note, Some("kept until you play again or Regenerate"));
        // Also while stopped.
        assert_eq!(
            listen_text(&ListenView { bar: None, ..kept }, None).state,
            "Captured"
        );
        // A bar never heard is a dash.
        let mut gap = kept;
        gap.captured[1] = None;
        assert_eq!(
            listen_text(&gap, None).chords.as_deref(),
            Some("Dm7 · — · Cmaj7 · Am7")
        );
        // Live says so in front of the same words.
        let live = |v: ListenView| {
            listen_text(
                &ListenView {
                    mode: FollowMode::Live,
                    ..v
                },
                None,
            )
            .state
        };
        assert_eq!(live(listening), "Live · Listening — bar 3 of 4");
        assert_eq!(live(kept), "Live · Captured");
        assert_eq!(
            live(ListenView { bar: None, ..base }),
            "Follow: live — waiting for the transport"
        );
        // Switched off: the capture is not used, and it says so.
        let off = ListenView {
            mode: FollowMode::Off,
            ..kept
        };
        let text = listen_text(&off, None);
        assert_eq!(text.state, "Follow off");
        assert_eq!(
            text.chords.as_deref(),
            Some("Captured, not used: Dm7 · G7 · Cmaj7 · Am7")
        );
    }
}
