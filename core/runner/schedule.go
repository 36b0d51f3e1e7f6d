package runner

import (
	"encoding/json"
	"fmt"

	"github.com/ebmflow/ebmflow/core/pipeline"
	"github.com/ebmflow/ebmflow/core/schedule"
)

// lrSchedule is the learning-rate schedule as the runner uses it: LR is the
// rate of the current iteration, Step advances to the next, State and
// Restore carry it through checkpoints.
type lrSchedule interface {
	LR() float64
	Step()
	State() any
	Restore(json.RawMessage) error
}

// scheduleAdapter gives a *schedule.Schedule the runner's interface.
type scheduleAdapter struct{ *schedule.Schedule }

func (a scheduleAdapter) State() any { return a.Schedule.State() }

func (a scheduleAdapter) Restore(b json.RawMessage) error {
	var st schedule.State
	if err := json.Unmarshal(b, &st); err != nil {
		return err
	}
	return a.Schedule.Restore(st)
}

// newSchedule builds the pipeline's schedule "lr" block.
func newSchedule(b *pipeline.ScheduleBlock) (lrSchedule, error) {
	if b == nil {
		return nil, fmt.Errorf("the pipeline has no schedule \"lr\" block")
	}
	s, err := schedule.New(b.Config())
	if err != nil {
		return nil, err
	}
	return scheduleAdapter{s}, nil
}
