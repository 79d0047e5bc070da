//! End-to-end tests of the `rappel` binary: real processes, real files, a real SQLite ledger.

mod commands;
mod config;
mod csv_input;
mod daemon;
mod demo;
mod email;
mod hostile;
mod once;
mod plugins;
mod postgres;
mod secrets;
mod strategy;
mod timeline;
mod twilio;
mod util;
