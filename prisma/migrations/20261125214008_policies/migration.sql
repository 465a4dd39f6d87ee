-- CreateTable
CREATE TABLE "policy_versions" (
    "version" INTEGER NOT NULL,
    "document" JSONB NOT NULL,
    "restored_from" INTEGER,
    "created_by" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "policy_versions_pkey" PRIMARY KEY ("version")
);
