pub mod phrase;
pub mod progression;
pub mod render;
pub mod sequencer;
pub mod sim;
pub mod theory;
