//! The Model card: the custom model folder, in two rows (the title with the model in use; the
//! folder field with its buttons).

use super::{theme, LoomApp};
use crate::bridge::messages::EditorToWorker;
use egui::{Button, RichText, Ui};
use std::path::PathBuf;

impl LoomApp {
    /// The custom model folder.
    pub(super) fn model(&mut self, ui: &mut Ui) {
        let model_dir = self.shared.params.session.read(|s| s.model_dir.clone());
        // Follow the session when it changes underneath (a project loaded, a model chosen).
        if self.model_dir_seen.as_ref() != Some(&model_dir) {
            self.model_dir_text = model_dir.clone().unwrap_or_default();
            self.model_dir_seen = Some(model_dir.clone());
        }
        let using = model_dir
            .as_deref()
            .map_or_else(|| "the built-in model".to_owned(), |d| d.to_owned());
        ui.horizontal(|ui| {
            ui.label(RichText::new("Model").color(theme::MUTED).strong());
            ui.add(
                egui::Label::new(
                    RichText::new(format!("using {using}"))
                        .small()
                        .color(theme::MUTED),
                )
                .truncate(),
            );
        });
        ui.horizontal(|ui| {
            let folder = self.model_dir_text.trim().to_owned();
            let field = ui.available_width() - 118.0;
            ui.add(
                egui::TextEdit::singleline(&mut self.model_dir_text)
                    .hint_text("Model folder")
                    .desired_width(field.max(60.0)),
            );
            if ui
                .add_enabled(!folder.is_empty(), Button::new("Use"))
                .on_hover_text("Write phrases with the model in this folder")
                .clicked()
            {
                self.shared.views.send(EditorToWorker::UseModel {
                    dir: Some(PathBuf::from(folder)),
                    knobs: self.shared.params.knobs(),
                });
            }
            if ui
                .add_enabled(model_dir.is_some(), Button::new("Built-in"))
                .on_hover_text("Write phrases with the built-in model")
                .clicked()
            {
                self.shared.views.send(EditorToWorker::UseModel {
                    dir: None,
                    knobs: self.shared.params.knobs(),
                });
            }
        });
    }
}
