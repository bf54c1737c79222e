import { createRootRoute, createRoute, createRouter, Outlet } from '@tanstack/react-router';
import { AppLayout } from './components/app-layout';
import { parseJobsSearch, parseLoginSearch, parseWebhooksSearch } from './lib/search';
import { JobPage } from './pages/job-page';
import { JobsPage } from './pages/jobs-page';
import { LoginPage } from './pages/login-page';
import { NotFoundPage } from './pages/not-found-page';
import { OverviewPage } from './pages/overview-page';
import { ProjectPage } from './pages/project-page';
import { ProjectsPage } from './pages/projects-page';
import { WebhooksPage } from './pages/webhooks-page';

const rootRoute = createRootRoute({ component: Outlet, notFoundComponent: NotFoundPage });

const loginRoute = createRoute({ getParentRoute: () => rootRoute, path: '/login', validateSearch: parseLoginSearch, component: LoginPage });

// Every page but sign-in sits in the signed-in layout (left nav, session check).
const appRoute = createRoute({ getParentRoute: () => rootRoute, id: 'app', component: AppLayout });

const overviewRoute = createRoute({ getParentRoute: () => appRoute, path: '/', component: OverviewPage });
const jobsRoute = createRoute({ getParentRoute: () => appRoute, path: '/jobs', validateSearch: parseJobsSearch, component: JobsPage });
const jobRoute = createRoute({ getParentRoute: () => appRoute, path: '/jobs/$jobId', component: JobPage });
const projectsRoute = createRoute({ getParentRoute: () => appRoute, path: '/projects', component: ProjectsPage });
const projectRoute = createRoute({ getParentRoute: () => appRoute, path: '/projects/$projectId', component: ProjectPage });
const webhooksRoute = createRoute({ getParentRoute: () => appRoute, path: '/webhooks', validateSearch: parseWebhooksSearch, component: WebhooksPage });

const routeTree = rootRoute.addChildren([
  loginRoute,
  appRoute.addChildren([overviewRoute, jobsRoute, jobRoute, projectsRoute, projectRoute, webhooksRoute]),
]);

export const router = createRouter({ routeTree, basepath: '/admin', defaultPreload: false, scrollRestoration: true });

declare module '@tanstack/react-router' {
  interface Register {
    router: typeof router;
  }
}
