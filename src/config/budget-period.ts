/** What a `budget_usd` covers; periods start at UTC midnight (weeks on Monday). */
export const BUDGET_PERIODS = ["day", "week", "month", "total"] as const;
export type BudgetPeriod = (typeof BUDGET_PERIODS)[number];
