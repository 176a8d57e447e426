//! HTTP requests to route plugins: the request (parsed by the HTTP server) is looked up in the
//! registry's route table, run in a route context, and what the run wrote becomes the answer.

use super::{run_plugin, Dispatcher};
use crate::plugin::routes::Lookup;
use crate::run::{HttpReply, RouteRequest, RunContext, RunStatus};

/// How a route request ended.
#[derive(Debug)]
pub enum RouteAnswer {
    /// What the run wrote (204 when it wrote nothing).
    Reply(HttpReply),
    NotFound,
    MethodNotAllowed(Vec<String>),
    /// The run failed or timed out: status and a message naming the plugin.
    Failed(u16, String),
}

impl Dispatcher {
    /// Runs the route plugin that serves `request`, if any, and returns its response.
    pub async fn route(&self, mut request: RouteRequest) -> RouteAnswer {
        let _admission = match self.try_admit() {
            Ok(a) => a,
            Err(e) => return RouteAnswer::Failed(503, e.to_string()),
        };
        let table = self.registry.routes();
        let plugin = match table.lookup(&request.method, &request.path) {
            Lookup::NotFound => return RouteAnswer::NotFound,
            Lookup::MethodNotAllowed(m) => return RouteAnswer::MethodNotAllowed(m),
            Lookup::Found {
                target,
                pattern,
                params,
            } => {
                request.pattern = pattern.to_string();
                request.params = params;
                target.clone()
            }
        };
        let outcome = run_plugin(
            &plugin,
            RunContext::route(request),
            self.default_timeout,
            None,
        )
        .await;
        match (&outcome.status, outcome.http) {
            (RunStatus::Ok, Some(reply)) => RouteAnswer::Reply(reply),
            (RunStatus::Ok, None) => RouteAnswer::Reply(HttpReply {
                status: 204,
                content_type: String::new(),
                body: String::new(),
            }),
            (RunStatus::TimedOut(_), _) => RouteAnswer::Failed(
                504,
                format!("route plugin {} {}", plugin.id, outcome.status),
            ),
            (RunStatus::Overloaded(why), _) => RouteAnswer::Failed(503, why.clone()),
            (status, _) => {
                RouteAnswer::Failed(500, format!("route plugin {} failed: {status}", plugin.id))
            }
        }
    }
}
