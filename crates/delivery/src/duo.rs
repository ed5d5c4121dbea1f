//! A client of Duo Security: the Universal Prompt (OIDC) endpoints and the Auth API.
