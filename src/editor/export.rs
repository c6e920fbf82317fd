//! Export and drag-out: the Export button, what it writes (the playing phrase or the last 8,
//! 16 or 32 bars as they played), the drag handle (which drags the same choice) and how the
//! last one ended.

use super::{theme, LoomApp, Outcome, Snapshot};
use crate::dragout::{self, DragState, FileDrag, Support};
use crate::midi::files;
use crate::midi::recent::RECENT_BAR_CHOICES;
use egui::{
    pos2, vec2, Align2, Button, ComboBox, CornerRadius, FontId, PointerButton, RichText, Sense,
    Stroke, StrokeKind, Ui,
};
use std::path::PathBuf;

/// What Export and the drag handle write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum ExportChoice {
    /// The playing phrase, once, as rendered.
    #[default]
    Phrase,
    /// The last this many whole bars, exactly as they were sent to the host.
    LastBars(u32),
}

impl ExportChoice {
    /// The name in the menu.
    fn label(self) -> String {
        match self {
            ExportChoice::Phrase => "Playing phrase".to_owned(),
            ExportChoice::LastBars(bars) => format!("Last {bars} bars"),
        }
    }
}

impl LoomApp {
    /// Whether there is something to write for the current choice.
    fn can_export(&self, snap: &Snapshot) -> bool {
        match self.export_choice {
            ExportChoice::Phrase => snap.phrase.is_some(),
            ExportChoice::LastBars(_) => {
                self.shared.views.performance().bar_start_beats().is_some()
            }
        }
    }

    /// Export button, what it writes, and the drag handle (right to left).
    pub(super) fn export_controls(&mut self, ui: &mut Ui, snap: &Snapshot) {
        let has_phrase = self.can_export(snap);
        let export = ui
            .add_enabled(has_phrase, Button::new("Export .mid"))
            .on_hover_text("Write it to your Music folder (Lofi Loom)")
            .on_disabled_hover_text("Nothing to export yet");
        if export.clicked() {
            self.export(snap);
        }
        ComboBox::from_id_salt("export_choice")
            .width(112.0)
            .selected_text(self.export_choice.label())
            .show_ui(ui, |ui| {
                let choices = std::iter::once(ExportChoice::Phrase)
                    .chain(RECENT_BAR_CHOICES.map(ExportChoice::LastBars));
                for choice in choices {
                    ui.selectable_value(&mut self.export_choice, choice, choice.label());
                }
            })
            .response
            .on_hover_text(
                "Export and drag the playing phrase, or the last bars exactly as they played \
                 (every phrase change, Follow move and Thru note)",
            );
        match self.drag_support {
            Support::Available => {
                let (rect, response) =
                    ui.allocate_exact_size(vec2(118.0, 30.0), Sense::click_and_drag());
                let dragging = matches!(
                    self.drag.as_ref().map(FileDrag::state),
                    Some(DragState::InProgress)
                );
                let colour = if !has_phrase {
                    theme::GRID
                } else if dragging || response.hovered() {
                    theme::ACCENT
                } else {
                    theme::MUTED
                };
                let painter = ui.painter_at(rect);
                painter.rect_stroke(
                    rect,
                    CornerRadius::same(8),
                    Stroke::new(1.5, colour),
                    StrokeKind::Inside,
                );
                for i in 0..3 {
                    for j in 0..2 {
                        let c = pos2(
                            rect.left() + 12.0 + j as f32 * 5.0,
                            rect.top() + 10.0 + i as f32 * 5.0,
                        );
                        painter.circle_filled(c, 1.6, colour);
                    }
                }
                let text = if dragging { "Dragging…" } else { "Drag .mid" };
                painter.text(
                    pos2(rect.left() + 28.0, rect.center().y),
                    Align2::LEFT_CENTER,
                    text,
                    FontId::proportional(14.0),
                    if has_phrase {
                        theme::TEXT
                    } else {
                        theme::MUTED
                    },
                );
                if has_phrase && response.drag_started_by(PointerButton::Primary) && !dragging {
                    self.start_drag(snap);
                }
                response.on_hover_text("Drag it onto a track in your DAW");
            }
            Support::Unsupported(why) => {
                let response = ui
                    .add_enabled(has_phrase, Button::new("Drag unavailable: Export"))
                    .on_hover_text(why);
                if response.clicked() {
                    self.export(snap);
                }
            }
        }
    }

    /// Writes the chosen export (the playing phrase, or the last bars) to the export folder.
    pub(super) fn write_file(&self, snap: &Snapshot) -> Result<PathBuf, String> {
        let dir = files::default_export_dir()
            .ok_or_else(|| "cannot find your Music folder (no home folder is set)".to_owned())?;
        let date = files::Date::today_utc();
        match self.export_choice {
            ExportChoice::Phrase => {
                let phrase = snap
                    .phrase
                    .as_ref()
                    .ok_or_else(|| "there is no phrase to export yet".to_owned())?;
                files::write_phrase(&dir, phrase, &snap.host, date)
            }
            ExportChoice::LastBars(bars) => {
                let recorder = self.shared.views.performance();
                files::write_recent(&dir, recorder, bars, &snap.host, date)
            }
        }
    }

    /// The Export button.
    pub(super) fn export(&mut self, snap: &Snapshot) {
        self.outcome = Some(match self.write_file(snap) {
            Ok(path) => Outcome::Saved(path),
            Err(why) => Outcome::Problem(format!("Export failed: {why}")),
        });
    }

    /// The drag handle: writes the file, then hands it to the system's drag and drop.
    pub(super) fn start_drag(&mut self, snap: &Snapshot) {
        let path = match self.write_file(snap) {
            Ok(path) => path,
            Err(why) => {
                self.outcome = Some(Outcome::Problem(format!("Drag failed: {why}")));
                return;
            }
        };
        match dragout::start_file_drag(&path) {
            Ok(drag) => {
                self.drag = Some(drag);
                self.outcome = Some(Outcome::Saved(path));
            }
            Err(why) => {
                self.drag = None;
                self.outcome = Some(Outcome::Problem(format!(
                    "{why}. The file was saved: {}",
                    path.display()
                )));
            }
        }
    }

    /// The last export or drag, with a "Copy path" action for a saved file.
    pub(super) fn outcome_line(&mut self, ui: &mut Ui) {
        let drag_state = self.drag.as_ref().map(FileDrag::state);
        match &self.outcome {
            Some(Outcome::Saved(path)) => {
                let verb = match drag_state {
                    Some(DragState::InProgress) => "Dragging",
                    Some(DragState::Dropped { accepted: true }) => "Dropped",
                    Some(DragState::Dropped { accepted: false }) => "The target refused",
                    Some(DragState::Cancelled) => "Drag cancelled; saved",
                    Some(DragState::Failed(_)) => "Drag failed; saved",
                    None => "Saved",
                };
                ui.label(RichText::new(format!("{verb} {}", path.display())).color(theme::OK));
                if ui.small_button("Copy path").clicked() {
                    ui.ctx().copy_text(path.display().to_string());
                }
                if let Some(DragState::Failed(why)) = drag_state {
                    ui.label(RichText::new(why).color(theme::ERROR));
                }
            }
            Some(Outcome::Problem(why)) => {
                ui.label(RichText::new(why).color(theme::ERROR));
            }
            None => {
                if let Support::Unsupported(why) = self.drag_support {
                    ui.label(RichText::new(why).color(theme::MUTED));
                }
            }
        }
    }
}
