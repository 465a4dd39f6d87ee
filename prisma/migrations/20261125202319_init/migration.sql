-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "config_state" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "version" BIGINT NOT NULL DEFAULT 1,
    "changed_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "config_state_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "agents" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "labels" TEXT[],
    "addresses" JSONB NOT NULL DEFAULT '[]',
    "version" TEXT,
    "hostname" TEXT,
    "last_seen_at" TIMESTAMP(3),
    "connected_at" TIMESTAMP(3),
    "online" BOOLEAN NOT NULL DEFAULT false,
    "config_version_acked" BIGINT NOT NULL DEFAULT 0,
    "config_error" TEXT,
    "next_recording_seq" BIGINT NOT NULL DEFAULT 1,
    "live_sessions" INTEGER NOT NULL DEFAULT 0,
    "revoked_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "agents_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "connections" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "target" TEXT NOT NULL,
    "network_labels" TEXT[],
    "secret_ref" TEXT,
    "secret_sealed" TEXT,
    "options" JSONB NOT NULL DEFAULT '{}',
    "description" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "connections_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "grants" (
    "id" UUID NOT NULL,
    "connection_id" UUID NOT NULL,
    "group" TEXT,
    "subject" TEXT,
    "reason" TEXT,
    "expires_at" TIMESTAMP(3),
    "created_by" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "grants_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "identities" (
    "subject" TEXT NOT NULL,
    "username" TEXT,
    "groups" TEXT[],
    "roles" TEXT[],
    "disabled_at" TIMESTAMP(3),
    "disabled_by" TEXT,
    "disable_reason" TEXT,
    "first_seen_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "identities_pkey" PRIMARY KEY ("subject")
);

-- CreateTable
CREATE TABLE "sessions" (
    "id" UUID NOT NULL,
    "agent_id" UUID NOT NULL,
    "subject" TEXT NOT NULL,
    "username" TEXT,
    "groups" TEXT[],
    "connection" TEXT NOT NULL,
    "protocol" TEXT NOT NULL,
    "client_address" TEXT,
    "application_name" TEXT,
    "trace_id" TEXT,
    "started_at" TIMESTAMP(3) NOT NULL,
    "ended_at" TIMESTAMP(3),
    "outcome" TEXT,
    "error" TEXT,
    "bytes_from_client" BIGINT NOT NULL DEFAULT 0,
    "bytes_to_client" BIGINT NOT NULL DEFAULT 0,
    "statement_count" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "sessions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "events" (
    "agent_id" UUID NOT NULL,
    "seq" BIGINT NOT NULL,
    "session_id" UUID NOT NULL,
    "time" TIMESTAMP(3) NOT NULL,
    "type" TEXT NOT NULL,
    "statement_index" BIGINT,
    "kind" TEXT,
    "text" TEXT,
    "trace_id" TEXT,
    "action" TEXT,
    "data" JSONB NOT NULL,
    "stored_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "events_pkey" PRIMARY KEY ("agent_id","seq")
);

-- CreateTable
CREATE TABLE "audit_entries" (
    "id" BIGSERIAL NOT NULL,
    "time" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "target" TEXT,
    "outcome" TEXT NOT NULL DEFAULT 'ok',
    "details" JSONB NOT NULL DEFAULT '{}',
    "prev_hash" TEXT NOT NULL,
    "hash" TEXT NOT NULL,

    CONSTRAINT "audit_entries_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "agents_name_key" ON "agents"("name");

-- CreateIndex
CREATE UNIQUE INDEX "connections_name_key" ON "connections"("name");

-- CreateIndex
CREATE INDEX "grants_connection_id_idx" ON "grants"("connection_id");

-- CreateIndex
CREATE INDEX "sessions_subject_started_at_idx" ON "sessions"("subject", "started_at");

-- CreateIndex
CREATE INDEX "sessions_connection_started_at_idx" ON "sessions"("connection", "started_at");

-- CreateIndex
CREATE INDEX "sessions_trace_id_idx" ON "sessions"("trace_id");

-- CreateIndex
CREATE INDEX "sessions_started_at_idx" ON "sessions"("started_at");

-- CreateIndex
CREATE INDEX "events_session_id_seq_idx" ON "events"("session_id", "seq");

-- CreateIndex
CREATE INDEX "events_trace_id_idx" ON "events"("trace_id");

-- CreateIndex
CREATE INDEX "events_time_idx" ON "events"("time");

-- CreateIndex
CREATE INDEX "audit_entries_time_idx" ON "audit_entries"("time");

-- CreateIndex
CREATE INDEX "audit_entries_action_time_idx" ON "audit_entries"("action", "time");

-- AddForeignKey
ALTER TABLE "grants" ADD CONSTRAINT "grants_connection_id_fkey" FOREIGN KEY ("connection_id") REFERENCES "connections"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_agent_id_fkey" FOREIGN KEY ("agent_id") REFERENCES "agents"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
