-- AlterTable
ALTER TABLE "jobs" ADD COLUMN     "received_output" JSONB;
