//! The port to Duo Security: the Universal Prompt (Web SDK v4) and the Auth API.
