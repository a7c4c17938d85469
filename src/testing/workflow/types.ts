import type { Artifact } from './artifacts.js';
import type { Annotation } from './file-commands.js';
import type { ApiRequest, EnvironmentReview, FakeIssue, IssueReply, PublicCommit } from './github-api.js';
import type { RepoContents } from './github-repo.js';
import type { Attestation } from './stand-ins.js';

/** One environment of the repository's settings, as the scenario declares it. */
export interface EnvironmentConfig {
  secrets?: Record<string, string>;
  vars?: Record<string, string>;
  /** required reviewers: a job behind it waits for the scenario's review */
  reviewers?: string[];
}

export interface Review {
  state: 'approved' | 'rejected';
  by: string;
  comment?: string;
}

/** A workflow_dispatch of one workflow, and everything GitHub would know that the YAML does not say. */
export interface Scenario {
  name: string;
  /** relative to repoDir, e.g. .github/workflows/astm53b-prod.yml */
  workflow: string;
  /** the repository checked out (default: this one) */
  repoDir?: string;
  /** files the dispatched commit holds beyond repoDir's working tree (path → content): checkout writes them too */
  commitFiles?: Record<string, string>;
  /** owner/name (default depot/astm53b-pipeline) */
  repository?: string;
  inputs?: Record<string, string | boolean>;
  /** the files of the repository's default branch as GitHub's REST API serves them (contents, git refs, pulls) */
  repositoryFiles?: Record<string, string>;
  /** the ref dispatched from (default refs/heads/main, which is the repository's default branch here) */
  ref?: string;
  /** commits of other public repositories GitHub's API answers for (GET /repos/{o}/{r}/commits/{sha}), by owner/name */
  publicCommits?: Record<string, PublicCommit[]>;
  /** who dispatched it (GITHUB_ACTOR, GITHUB_TRIGGERING_ACTOR) */
  actor?: string;
  /** repository secrets and variables, seen by every job */
  secrets?: Record<string, string>;
  vars?: Record<string, string>;
  environments?: Record<string, EnvironmentConfig>;
  /** the review each environment with reviewers gets, by environment name */
  reviews?: Record<string, Review>;
  /** comments people post on every issue the run opens, right after it is opened (an approval issue's answers) */
  issueReplies?: IssueReply[];
  /** the PostgreSQL server whose fresh databases stand in for `postgres` service containers */
  serviceServer?: string;
  /** services whose stand-in refuses every connection (a container that died) */
  refuseServices?: string[];
  /** how many milliseconds a minute of `timeout-minutes` lasts (default 60 000) */
  minuteMs?: number;
  /** variables the runner machine has (PATH, HOME and LANG come from this process) */
  runnerEnv?: Record<string, string>;
  /** artifacts of earlier runs of the repository, for download-artifact with run-id: run id → artifact name → folder */
  earlierRuns?: Record<string, Record<string, string>>;
  /** the repository's issues when the run starts (the REST API serves them, and records what the run writes) */
  issues?: FakeIssue[];
}

export type Result = 'success' | 'failure' | 'cancelled' | 'skipped';

export interface StepReport {
  job: string;
  id: string;
  label: string;
  uses?: string;
  outcome: Result;
  conclusion: Result;
  outputs: Record<string, string>;
  annotations: Annotation[];
  /** stdout and stderr as GitHub would show them: secrets and masked values as *** */
  log: string;
  summary: string;
  ms: number;
  /** a `run:` step that installs packages, skipped here (its reason) */
  skippedInstall?: string;
  timedOut?: boolean;
  /** `with:` keys the action does not declare (the runner warns "Unexpected input(s)") */
  unexpectedInputs: string[];
  /** required inputs of the action given neither in `with:` nor by a default */
  missingInputs: string[];
  /** workflow commands no current runner should see */
  problems: string[];
}

export interface JobReport {
  id: string;
  result: Result;
  environment?: string;
  review?: EnvironmentReview;
  outputs: Record<string, string>;
  steps: StepReport[];
  /** why the job ended as it did when no step says it (skipped, rejected, timed out) */
  note?: string;
  workspace?: string;
}

export interface RunReport {
  scenario: string;
  runId: number;
  dir: string;
  jobs: JobReport[];
  artifacts: Map<string, Artifact>;
  attestations: Attestation[];
  skippedInstalls: { job: string; step: string; reason: string }[];
  apiRequests: ApiRequest[];
  reviews: EnvironmentReview[];
  /** the issues the run opened, with their comments and state */
  issues: FakeIssue[];
  /** the repository as the REST API left it: branches, files, pull requests, commits */
  repository: RepoContents;
  job(id: string): JobReport;
  step(job: string, idOrLabel: string): StepReport;
  /** where an artifact's files are kept, to read them as a later download would */
  artifactDir(name: string): string;
  /** one line per job and step: what a reader of the Actions UI would see */
  describe(): string;
  dispose(): Promise<void>;
}

export class ScenarioError extends Error {}
