"""The platform's side of the city's government sharing hub (市政务信息资源共享平台), docs/hub.md."""
