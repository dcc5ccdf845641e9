/**
 * What a diagnostic setting sends: its own file, because parts declare it (declared-needs.ts)
 * and the monitoring code applies it, and neither should import the other.
 */
/** What a diagnostic setting sends. */
export interface DiagnosticCategories {
  /** Log category groups, e.g. `allLogs`. */
  readonly logCategoryGroups?: string[];
  /** Log categories, e.g. `FunctionAppLogs`. */
  readonly logCategories?: string[];
  /** Metric categories, e.g. `AllMetrics`. */
  readonly metricCategories?: string[];
}
