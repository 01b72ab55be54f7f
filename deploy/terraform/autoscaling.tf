# photofinishd scales on queue backlog per running task (target tracking on a
# metric math expression, as in the ECS/SQS "backlog per task" pattern); the
# gallery scales on CPU.

resource "aws_appautoscaling_target" "daemon" {
  service_namespace  = "ecs"
  scalable_dimension = "ecs:service:DesiredCount"
  resource_id        = "service/${aws_ecs_cluster.main.name}/${aws_ecs_service.daemon.name}"
  min_capacity       = var.daemon_min_tasks
  max_capacity       = var.daemon_max_tasks
}

resource "aws_appautoscaling_policy" "daemon_backlog" {
  name               = "${local.name}-photofinishd-backlog-per-task"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.daemon.service_namespace
  scalable_dimension = aws_appautoscaling_target.daemon.scalable_dimension
  resource_id        = aws_appautoscaling_target.daemon.resource_id

  target_tracking_scaling_policy_configuration {
    target_value       = var.daemon_target_backlog_per_task
    scale_out_cooldown = 60
    scale_in_cooldown  = 300

    customized_metric_specification {
      metrics {
        id          = "visible"
        label       = "Messages waiting in the ingest queue"
        return_data = false

        metric_stat {
          stat = "Sum"
          metric {
            namespace   = "AWS/SQS"
            metric_name = "ApproximateNumberOfMessagesVisible"
            dimensions {
              name  = "QueueName"
              value = aws_sqs_queue.ingest.name
            }
          }
        }
      }

      metrics {
        id          = "tasks"
        label       = "Running photofinishd tasks"
        return_data = false

        metric_stat {
          stat = "Average"
          metric {
            namespace   = "ECS/ContainerInsights"
            metric_name = "RunningTaskCount"
            dimensions {
              name  = "ClusterName"
              value = aws_ecs_cluster.main.name
            }
            dimensions {
              name  = "ServiceName"
              value = aws_ecs_service.daemon.name
            }
          }
        }
      }

      metrics {
        id          = "backlog_per_task"
        label       = "Ingest backlog per task"
        expression  = "visible / tasks"
        return_data = true
      }
    }
  }
}

resource "aws_appautoscaling_target" "gallery" {
  service_namespace  = "ecs"
  scalable_dimension = "ecs:service:DesiredCount"
  resource_id        = "service/${aws_ecs_cluster.main.name}/${aws_ecs_service.gallery.name}"
  min_capacity       = var.gallery_min_tasks
  max_capacity       = var.gallery_max_tasks
}

resource "aws_appautoscaling_policy" "gallery_cpu" {
  name               = "${local.name}-gallery-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.gallery.service_namespace
  scalable_dimension = aws_appautoscaling_target.gallery.scalable_dimension
  resource_id        = aws_appautoscaling_target.gallery.resource_id

  target_tracking_scaling_policy_configuration {
    target_value       = var.gallery_target_cpu
    scale_out_cooldown = 60
    scale_in_cooldown  = 300

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}
