import "./labels.js";
import PipelinesPage from "./pipelines.js";
import SchedulesPage from "./schedule.js";
import CalendarPage from "./calendar.js";
import { RunsPage, RunPage, JobsHome } from "./runs.js";

export const routes = [
  { path: "jobs/pipelines", component: PipelinesPage },
  { path: "jobs/schedules", component: SchedulesPage },
  { path: "jobs/runs", component: RunsPage },
  { path: "jobs/runs/:id", component: RunPage },
  { path: "jobs/calendar", component: CalendarPage },
];
export const nav = [
  { path: "/jobs/pipelines", key: "nav.pipelines", icon: "Connection", perm: "jobs:read", group: "nav.jobsGroup", groupIcon: "Timer" },
  { path: "/jobs/schedules", key: "nav.schedules", icon: "AlarmClock", perm: "jobs:read", group: "nav.jobsGroup" },
  { path: "/jobs/runs", key: "nav.jobRuns", icon: "List", perm: "jobs:read", group: "nav.jobsGroup" },
  { path: "/jobs/calendar", key: "nav.jobCalendar", icon: "Calendar", perm: "jobs:read", group: "nav.jobsGroup" },
];
// The data admin's home page: failed runs and open alerts.
export const home = [{ component: JobsHome, perm: "jobs:manage" }];
