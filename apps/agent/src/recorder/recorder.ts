import type { SessionEnd, SessionStart, Statement } from '@portcullis/proto';

/**
 * Where engines report what happened. A sink: methods return nothing and never throw or block the
 * data path; the implementation spools to disk and ships in order (acked) over the stream.
 */
export interface Recorder {
  /**
   * False when a statement must not be served because it could not be recorded (spool full or
   * disk failing, with the fail-closed default). Engines check it before forwarding a statement.
   */
  accepting(): boolean;
  sessionStart(sessionId: string, start: SessionStart): void;
  statement(sessionId: string, statement: Statement): void;
  sessionEnd(sessionId: string, end: SessionEnd): void;
}
