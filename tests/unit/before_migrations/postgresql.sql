-- The schema hubsgen's create_all made before migrations (3b6edf0^), on postgresql.
-- Regenerate: .venv/bin/python tests/unit/before_migrations/regenerate.py

CREATE TABLE users (
	username VARCHAR(64) NOT NULL,
	fullname VARCHAR(255) NOT NULL,
	created TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	PRIMARY KEY (username)
);

CREATE TABLE hubs (
	id SERIAL NOT NULL,
	name VARCHAR(64) NOT NULL,
	summary TEXT NOT NULL,
	avatar VARCHAR(512) NOT NULL,
	archived BOOLEAN NOT NULL,
	user_hub BOOLEAN NOT NULL,
	created TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	last_activity TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	revision INTEGER DEFAULT '0' NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (name)
);

CREATE TABLE messages (
	id SERIAL NOT NULL,
	msg_id VARCHAR(128) NOT NULL,
	topic VARCHAR(255) NOT NULL,
	category VARCHAR(64) NOT NULL,
	timestamp TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	body JSON NOT NULL,
	summary TEXT NOT NULL,
	link VARCHAR(1024) NOT NULL,
	icon VARCHAR(1024) NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (msg_id)
);

CREATE INDEX ix_messages_timestamp ON messages (timestamp);

CREATE INDEX ix_messages_topic ON messages (topic);

CREATE TABLE positions (
	source VARCHAR(255) NOT NULL,
	msg_id VARCHAR(128) NOT NULL,
	timestamp TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	PRIMARY KEY (source)
);

CREATE TABLE widgets (
	id SERIAL NOT NULL,
	hub_id INTEGER NOT NULL,
	plugin VARCHAR(64) NOT NULL,
	config JSON NOT NULL,
	"column" VARCHAR(8) NOT NULL,
	position INTEGER NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(hub_id) REFERENCES hubs (id) ON DELETE CASCADE
);

CREATE INDEX ix_widgets_hub_id ON widgets (hub_id);

CREATE TABLE memberships (
	id SERIAL NOT NULL,
	hub_id INTEGER NOT NULL,
	username VARCHAR(64) NOT NULL,
	role VARCHAR(16) NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (hub_id, username, role),
	FOREIGN KEY(hub_id) REFERENCES hubs (id) ON DELETE CASCADE,
	FOREIGN KEY(username) REFERENCES users (username) ON DELETE CASCADE
);

CREATE INDEX ix_memberships_hub_id ON memberships (hub_id);

CREATE INDEX ix_memberships_username ON memberships (username);

CREATE TABLE message_tags (
	message_id INTEGER NOT NULL,
	kind VARCHAR(8) NOT NULL,
	name VARCHAR(255) NOT NULL,
	timestamp TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	PRIMARY KEY (message_id, kind, name),
	FOREIGN KEY(message_id) REFERENCES messages (id) ON DELETE CASCADE
);

CREATE INDEX ix_message_tags_lookup ON message_tags (kind, name, timestamp);

CREATE TABLE user_aliases (
	id SERIAL NOT NULL,
	username VARCHAR(64) NOT NULL,
	kind VARCHAR(8) NOT NULL,
	value VARCHAR(255) NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (kind, value),
	FOREIGN KEY(username) REFERENCES users (username) ON DELETE CASCADE
);

CREATE INDEX ix_user_aliases_username ON user_aliases (username);

