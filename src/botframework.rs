//! The Bot Framework protocol as Teams speaks it: activities, inbound token validation,
//! the outbound token provider and the Bot Connector client. This module knows nothing of
//! passkeys.

pub mod activity;
pub mod auth;
pub mod connector;
pub mod token;

pub use activity::{Activity, ActivityType, ChannelAccount, ConversationAccount};
